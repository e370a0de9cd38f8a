using GpuMux.Engine;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Models;

/// <summary>How the benchmarks launch gemv_f16 over a benchmark model's layer: y = W·x over <see cref="ModelGeometry.Cols"/> columns.</summary>
internal static class GemvLaunch
{
    /// <summary>
    /// Adds a launch of <paramref name="gemv"/> over the first <paramref name="rows"/> rows of
    /// tensor <paramref name="weights"/> of the step's model: it waits for that tensor's layer
    /// group only. x is read at the start of <paramref name="x"/>; y is written at
    /// <paramref name="yOffset"/> of <paramref name="y"/>.
    /// </summary>
    public static void Add(Step step, uint gemv, uint weights, uint x, uint y, ulong yOffset, uint rows, uint blocks)
    {
        step.AddLaunch(gemv, blocks, BuiltinKernels.BlockSize, 0);
        step.AddTensorArgument(weights, 0);
        step.AddBufferArgument(x, 0);
        step.AddBufferArgument(y, yOffset);
        step.AddScalarArgument(rows);
        step.AddScalarArgument((uint)ModelGeometry.Cols);
    }
}
