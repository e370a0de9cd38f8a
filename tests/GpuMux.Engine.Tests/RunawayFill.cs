using System.Text;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests;

/// <summary>
/// A way for a test to fault the device: fill_f32 from a module of the session's own (the
/// built-in kernels' source, loaded as a module), which the engine cannot bound as it bounds
/// module 0's, so a count far past its buffer writes outside any allocation.
/// </summary>
internal static class RunawayFill
{
    /// <summary>Floats that reach past the end of any test device.</summary>
    public const ulong Count = 1UL << 28;

    /// <summary>The function handle of the session's own fill_f32.</summary>
    public static async Task<uint> LoadAsync(EngineSession session)
    {
        var module = await session.LoadModuleAsync(ModuleFormat.CudaC, "runaway.cu", Encoding.UTF8.GetBytes(BuiltinKernels.Source.Code), Ct);
        return await session.GetFunctionAsync(module.Module, KernelNames.FillF32, Ct);
    }

    public static void Add(Step step, uint fill, uint buffer)
    {
        step.AddLaunch(fill, 4, 256, 0);
        step.AddBufferArgument(buffer, 0);
        step.AddScalarArgument(1f);
        step.AddScalarArgument(Count);
    }
}
