namespace GpuMux.Gpu.Sim;

/// <summary>
/// The simulated device. The defaults model an A100 on PCIe Gen4: pinned copies at 25 GB/s,
/// pageable at 10 GB/s, 1.5 TB/s of device memory bandwidth for kernels.
/// </summary>
public sealed record SimDeviceOptions
{
    public string Name { get; init; } = "GpuMux Sim (simulated A100-like device, no GPU)";

    public int DeviceCount { get; init; } = 1;

    /// <summary>Device memory. Backed by host memory committed only as it is touched.</summary>
    public ulong CapacityBytes { get; init; } = 16UL << 30;

    public double PinnedCopyBytesPerSecond { get; init; } = 25e9;

    public double PageableCopyBytesPerSecond { get; init; } = 10e9;

    public double DeviceMemoryBytesPerSecond { get; init; } = 1.5e12;

    /// <summary>Fixed cost of every kernel and copy, as a launch or a DMA setup costs on hardware.</summary>
    public TimeSpan OperationLatency { get; init; } = TimeSpan.FromMicroseconds(4);

    public ComputeCapability ComputeCapability { get; init; } = new(8, 0);

    public int MultiprocessorCount { get; init; } = 108;

    public StreamPriorityRange StreamPriorities { get; init; } = new(Least: 0, Greatest: -5);

    public ulong AllocationGranularity { get; init; } = 2UL << 20;

    /// <summary>Whether the device comes back after <see cref="GpuBackend.ResetDevice"/>: tests of a device that is lost set another outcome.</summary>
    public SimResetOutcome AfterReset { get; init; } = SimResetOutcome.Recovers;

    /// <summary>
    /// A test seam: called on the compiling thread before the Sim's compiler takes each CUDA C
    /// source (a source the disk cache holds is not compiled, and not seen here). The Sim compiles
    /// in microseconds where NVRTC takes up to seconds; a test makes a compile as slow as it needs,
    /// deterministically, by blocking here until it releases it.
    /// </summary>
    public Action<KernelSource>? BeforeCompileForTests { get; init; }
}
