namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The memory the daemon takes once at start and manages itself: a share of device memory for
/// buffers and resident models, and pinned host memory that holds models' weights between swaps.
/// </summary>
internal sealed class MemoryOptions : IDaemonSettings
{
    public static string SectionName => "Memory";

    /// <summary>0: <see cref="DevicePoolFraction"/> of the device's free memory at start.</summary>
    public ulong DevicePoolBytes { get; set; }

    public double DevicePoolFraction { get; set; } = 0.9;

    // The allocation granularity of every current GPU: the driver maps nothing smaller.
    private const ulong DevicePageGranularity = 2UL << 20;
    private const ulong MaxDevicePageBytes = 1UL << 30;

    /// <summary>The device pool's page, one physical allocation mapped whole: a multiple of 2 MiB; 0 is the device's allocation granularity.</summary>
    public ulong DevicePageBytes { get; set; }

    /// <summary>0: no pinned tier; every model streams from its file.</summary>
    public ulong PinnedPoolBytes { get; set; } = 1UL << 30;

    public int BounceBuffers { get; set; } = 4;

    public ulong BounceBufferBytes { get; set; } = 16UL << 20;

    public ulong SwapChunkBytes { get; set; } = 8UL << 20;

    public int LayerGroupTensors { get; set; } = 8;

    public ulong MaxModelHeaderBytes { get; set; } = 16UL << 20;

    public void Validate(SettingErrors errors)
    {
        errors.RequireRange(nameof(DevicePoolFraction), DevicePoolFraction, 0.01, 1.0);
        if (DevicePageBytes > MaxDevicePageBytes || DevicePageBytes % DevicePageGranularity != 0)
        {
            errors.Add(nameof(DevicePageBytes), $"is {DevicePageBytes}; it must be a multiple of {DevicePageGranularity} (2 MiB) up to {MaxDevicePageBytes} (1 GiB), or 0 for the device's allocation granularity.");
        }
        errors.RequireRange(nameof(BounceBuffers), BounceBuffers, 2, 64);
        errors.RequireRange(nameof(BounceBufferBytes), BounceBufferBytes, 1UL << 20, 1UL << 30);
        errors.RequireRange(nameof(SwapChunkBytes), SwapChunkBytes, 1UL << 20, 1UL << 30);
        errors.RequireRange(nameof(LayerGroupTensors), LayerGroupTensors, 1, 1 << 20);
        errors.RequireRange(nameof(MaxModelHeaderBytes), MaxModelHeaderBytes, 4096UL, 1UL << 30);
    }
}
