using System.Diagnostics.Metrics;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Tenants;

namespace GpuMux.Engine;

/// <summary>Limits the engine enforces per session and per tenant, the device it runs on, and how it stages and swaps models.</summary>
public sealed record EngineOptions
{
    public int DeviceOrdinal { get; init; }

    /// <summary>Steps a session may have submitted and not yet completed; one more fails with <see cref="EngineError.TooManyInFlight"/>.</summary>
    public int MaxInFlightStepsPerSession { get; init; } = 64;

    /// <summary>Device bytes a session's buffers may hold in all, as asked for; 0 leaves only the device pool as the limit.</summary>
    public ulong MaxBufferBytesPerSession { get; init; }

    public int MaxBuffersPerSession { get; init; } = 1024;

    public int MaxRegionsPerSession { get; init; } = 64;

    public ulong MaxRegionBytes { get; init; } = 16UL << 30;

    public int MaxModulesPerSession { get; init; } = 64;

    /// <summary>
    /// CUDA C compiles one tenant may have under way at once, off the engine thread; one more
    /// waits for one of them to finish. NVRTC takes a core and up to hundreds of megabytes per compile.
    /// </summary>
    public int MaxConcurrentCompilesPerTenant { get; init; } = 2;

    /// <summary>Models a session may have registered at once; each File-tier model keeps a descriptor open.</summary>
    public int MaxModelsPerSession { get; init; } = 64;

    public int MaxOpsPerStep { get; init; } = 256;

    /// <summary>The descriptors clients may make the daemon hold, shared with its connections; a model kept as a file takes one.</summary>
    public DescriptorBudget Descriptors { get; init; } = DescriptorBudget.Unbounded();

    /// <summary>The meter the engine's instruments are made on (a host's, from its meter factory); null for one of the engine's own.</summary>
    public Meter? Meter { get; init; }

    /// <summary>
    /// Device memory the engine takes once, at start, and hands out as buffers and as room for
    /// models' weights; 0 takes <see cref="DevicePoolFraction"/> of the device's free memory then.
    /// </summary>
    public ulong DevicePoolBytes { get; init; }

    public double DevicePoolFraction { get; init; } = 0.9;

    /// <summary>
    /// The device pool's page: one physical allocation, always mapped whole. A swap-in maps a
    /// model's weights, and an eviction unmaps them, one page per driver call; a buffer takes whole
    /// pages. Rounded up to the device's allocation granularity (2 MiB on current GPUs); 0 is the
    /// granularity itself.
    /// </summary>
    public ulong DevicePageBytes { get; init; }

    /// <summary>Pinned host memory that registered models' weights are staged in; 0: none, every model is of the File tier.</summary>
    public ulong PinnedPoolBytes { get; init; } = 1UL << 30;

    /// <summary>A model registered without its own grouping is swapped in by groups of this many tensors, in file order.</summary>
    public int LayerGroupTensors { get; init; } = 8;

    /// <summary>The largest single host-to-device copy of a swap-in.</summary>
    public ulong SwapChunkBytes { get; init; } = 8UL << 20;

    /// <summary>Pinned buffers that File-tier models are streamed through: reads fill some while the device copies from others.</summary>
    public int BounceBuffers { get; init; } = 4;

    public ulong BounceBufferBytes { get; init; } = 16UL << 20;

    /// <summary>The largest safetensors header (its JSON) a model file may have.</summary>
    public ulong MaxModelHeaderBytes { get; init; } = 16UL << 20;

    public SchedulingOptions Scheduling { get; init; } = new();

    /// <summary>Per-tenant limits and weights; changeable while running with <see cref="GpuEngine.UpdateTenantLimitsAsync"/>.</summary>
    public TenantLimitsOptions Tenants { get; init; } = new();

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(DeviceOrdinal);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxInFlightStepsPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxBuffersPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRegionsPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxModulesPerSession);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentCompilesPerTenant);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxModelsPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxOpsPerStep);
        if (!(DevicePoolFraction > 0 && DevicePoolFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(DevicePoolFraction), DevicePoolFraction, "the device pool's share of free memory must lie in (0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LayerGroupTensors);
        ArgumentOutOfRangeException.ThrowIfZero(SwapChunkBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BounceBuffers);
        ArgumentOutOfRangeException.ThrowIfZero(BounceBufferBytes);
        ArgumentOutOfRangeException.ThrowIfZero(MaxModelHeaderBytes);
        Scheduling.Validate();
        Tenants.Validate(Scheduling);
    }
}
