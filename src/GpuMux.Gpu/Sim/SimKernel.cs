namespace GpuMux.Gpu.Sim;

/// <summary>
/// A kernel the simulated device can run: its parameters, and a C# body that does the real work
/// and returns the modelled time in <see cref="SimClock"/> ticks. The body reads each argument's
/// bits as its own parameter's type, as a kernel on a GPU does.
/// </summary>
internal sealed record SimKernel(string Name, Func<SimKernelInvocation, long> Run)
{
    public IReadOnlyList<KernelParameter> Parameters { get; } = Kernels.BuiltinSignatures.Parameters[Name];
}
