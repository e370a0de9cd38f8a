using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;

namespace GpuMux.Engine;

/// <summary>
/// The engine at one moment, for <c>gpumuxctl status</c> and metrics. <see cref="SessionBytes"/>
/// counts the device bytes all sessions' buffers hold. The device pool is the memory the engine
/// took at start, which buffers and resident models share; the pinned pool holds staged models
/// and spilled buffers' bytes (<see cref="Spills"/>).
/// </summary>
public sealed record EngineStatus(
    GpuBackendKind Backend,
    GpuDeviceInfo Device,
    ulong FreeBytes,
    ulong TotalBytes,
    ulong SessionBytes,
    IReadOnlyList<SessionStatus> Sessions,
    ulong DevicePoolBytes,
    ulong DevicePoolFreeBytes,
    ulong PinnedPoolBytes,
    ulong PinnedPoolFreeBytes,
    SchedulingPolicy Policy,
    IReadOnlyList<ClassStatus> Classes,
    BufferSpillStatus Spills);

/// <summary>
/// One priority class: its stream priority, steps waiting to be issued and on the device, and its
/// share of the device's time over the scheduler's share window, against its starvation bound.
/// </summary>
public sealed record ClassStatus(string Name, int StreamPriority, int StepsQueued, int StepsOnDevice, double RecentShare, double MinimumShare);

/// <summary>One session: what it holds and how its steps fared. Queued steps are submitted and not yet on the device.</summary>
public sealed record SessionStatus(
    long Id,
    SessionIdentity Identity,
    DateTimeOffset ConnectedAt,
    int Buffers,
    ulong BufferBytes,
    int Regions,
    ulong RegionBytes,
    int Modules,
    int StepsQueued,
    int StepsRunning,
    long StepsCompleted,
    long StepsFailed,
    string Class,
    LeaseStatus? Lease);

/// <summary>
/// One registered model: whose it is, its size, where it is staged, whether its weights are on
/// the device now, when a step last used it, and how its swap-ins fared (the median rate over
/// recent swap-ins, from the start of the first copy to the end of the last; null before any).
/// </summary>
public sealed record ModelStatus(
    long SessionId,
    uint Model,
    string Name,
    uint OwnerUid,
    ulong Bytes,
    int TensorCount,
    int Groups,
    ModelTier Tier,
    bool Resident,
    DateTimeOffset? LastUsed,
    long SwapCount,
    double? MedianSwapInBytesPerSecond,
    UsageFigures Usage);

/// <summary>Spilled buffers now, and the spills and restores since the engine started (bytes as the buffers' lengths).</summary>
public sealed record BufferSpillStatus(int SpilledBuffers, ulong SpilledBytes, long Spills, ulong SpillBytes, long Restores, ulong RestoreBytes);
