using GpuMux.Engine;
using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

/// <summary>The grid and block the scheduling benchmarks launch the built-in spin kernel with.</summary>
internal readonly record struct SpinShape(Dim3 Grid, Dim3 Block)
{
    /// <summary>One warp, as <c>BuiltinKernels.Spin</c> launches it: a small step, which on a GPU leaves most of the device idle.</summary>
    public static SpinShape OneWarp { get; } = new(1, 32);

    /// <summary>
    /// Two blocks of the most threads a block may have per multiprocessor: every SM's thread
    /// slots taken on devices with 2048 per SM (A100, H100), so that the launch keeps the whole
    /// device busy for its time, as a batch job's or a model's step does. The simulator runs one
    /// kernel at a time whatever its shape.
    /// </summary>
    public static SpinShape FillingDevice(GpuDeviceInfo device) =>
        new((uint)Math.Max(1, device.MultiprocessorCount * 2), (uint)device.MaxThreadsPerBlock);

    /// <summary>Adds a launch of <paramref name="spin"/> (the session's handle of the built-in) that busy-waits <paramref name="microseconds"/>.</summary>
    public void AddTo(Step step, uint spin, ulong microseconds)
    {
        step.AddLaunch(spin, Grid, Block, 0);
        step.AddScalarArgument(microseconds);
    }
}
