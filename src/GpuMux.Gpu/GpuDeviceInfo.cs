namespace GpuMux.Gpu;

/// <summary>
/// What a device is, as read once when the backend enumerates it. Free memory changes from
/// moment to moment and needs a context: ask <see cref="GpuContext.GetMemoryInfo"/>.
/// </summary>
public sealed record GpuDeviceInfo
{
    public required int Ordinal { get; init; }

    public required string Name { get; init; }

    public required ComputeCapability ComputeCapability { get; init; }

    public required ulong TotalMemoryBytes { get; init; }

    public required int MultiprocessorCount { get; init; }

    /// <summary>PCI address in the driver's <c>domain:bus:device.function</c> form.</summary>
    public required string PciBusId { get; init; }

    /// <summary>As nvidia-smi and DCGM write it: <c>GPU-</c> and the 16 bytes in hexadecimal, grouped 4-2-2-2-6.</summary>
    public required string Uuid { get; init; }

    public required int MaxThreadsPerBlock { get; init; }

    public required Dim3 MaxBlockDim { get; init; }

    public required Dim3 MaxGridDim { get; init; }

    public required int MaxSharedMemoryPerBlock { get; init; }

    public required bool SupportsVirtualMemory { get; init; }

    public required bool IsSimulated { get; init; }
}
