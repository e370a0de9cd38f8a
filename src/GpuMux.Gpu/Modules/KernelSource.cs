namespace GpuMux.Gpu;

/// <summary>
/// CUDA C source to compile at run time. <see cref="Name"/> is what the compiler's log calls the
/// file; <see cref="Options"/> are NVRTC options, except the target architecture, which the
/// context chooses for its device.
/// </summary>
public sealed record KernelSource(string Name, string Code, IReadOnlyList<string> Options)
{
    public KernelSource(string name, string code)
        : this(name, code, [])
    {
    }
}
