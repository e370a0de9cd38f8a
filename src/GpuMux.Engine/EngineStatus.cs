using GpuMux.Gpu;

namespace GpuMux.Engine;

/// <summary>
/// The engine at one moment, for <c>gpumuxctl status</c> and metrics. <see cref="SessionBytes"/>
/// counts the device bytes all sessions' buffers hold.
/// </summary>
public sealed record EngineStatus(
    GpuBackendKind Backend,
    GpuDeviceInfo Device,
    ulong FreeBytes,
    ulong TotalBytes,
    ulong SessionBytes,
    IReadOnlyList<SessionStatus> Sessions);

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
    long StepsFailed);
