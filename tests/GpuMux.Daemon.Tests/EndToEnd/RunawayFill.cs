using System.Text;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// A way for a test to fault the device: fill_f32 from a module of the client's own (the
/// built-in kernels' source, loaded as a module), which the daemon cannot bound as it bounds
/// module 0's, so a count far past its buffer writes outside any allocation.
/// </summary>
internal static class RunawayFill
{
    /// <summary>Floats that reach past the end of the test daemon's device.</summary>
    public const ulong Count = 1UL << 30;

    /// <summary>The client's own fill_f32; the module stays loaded for the session's life.</summary>
    public static async Task<KernelFunction> LoadAsync(GpuMuxClient client)
    {
        var source = Encoding.UTF8.GetBytes(BuiltinKernels.Source.Code);
        var module = await client.LoadModuleAsync(Protocol.Messages.ModuleFormat.CudaC, "runaway.cu", source, TestContext.Current.CancellationToken);
        return await client.GetFunctionAsync(module, KernelNames.FillF32, TestContext.Current.CancellationToken);
    }

    public static StepBuilder Runaway(this StepBuilder step, KernelFunction fill, DeviceBuffer buffer) =>
        step.Launch(fill, 1024, 256).Buffer(buffer).Float32(1f).UInt64(Count);
}
