namespace GpuMux.Gpu;

public enum ModuleImageKind
{
    /// <summary>Machine code for one architecture, loaded as is.</summary>
    Cubin,

    /// <summary>PTX text, compiled by the driver for the device when loaded.</summary>
    Ptx,
}

/// <summary>A loadable module: compiled kernels, as NVRTC or nvcc produce them.</summary>
public sealed record ModuleImage(ModuleImageKind Kind, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>
    /// The parameters of its kernels as the sources that were compiled declare them, where they
    /// are the daemon's own: used only where the driver cannot report a kernel's parameters.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KernelParameter>>? DeclaredParameters { get; init; }

    public static ModuleImage FromPtx(string ptx) => new(ModuleImageKind.Ptx, System.Text.Encoding.UTF8.GetBytes(ptx));
}
