namespace GpuMux.Gpu;

/// <summary>Access a device gets to mapped memory; the values are CUDA's <c>CUmemAccess_flags</c>.</summary>
public enum MemoryAccess
{
    None = 0,
    Read = 1,
    ReadWrite = 3,
}
