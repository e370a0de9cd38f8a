namespace GpuMux.Bench.Copies;

internal enum HostMemoryKind
{
    /// <summary>Page-locked, from <see cref="Gpu.GpuContext.AllocatePinned"/>: DMA straight from the pages.</summary>
    Pinned,

    /// <summary>Ordinary host memory: the driver stages it through its own pinned buffers.</summary>
    Pageable,
}
