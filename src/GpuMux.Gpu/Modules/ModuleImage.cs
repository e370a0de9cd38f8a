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
    public static ModuleImage FromPtx(string ptx) => new(ModuleImageKind.Ptx, System.Text.Encoding.UTF8.GetBytes(ptx));
}
