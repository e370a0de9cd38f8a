namespace GpuMux.Engine.Tenants;

/// <summary>
/// What a session asks of a lease. Null limits are unlimited. Its steps run in
/// <see cref="Class"/> (the default class when null) and draw their device time from it; it
/// expires when either budget is spent.
/// </summary>
public sealed record LeaseRequest(string? Class, TimeSpan? MaxGpuTime, TimeSpan? MaxDuration, ulong MaxDeviceBytes)
{
    /// <summary>
    /// The longest GPU time or duration a lease may have: 4,294,967,294 ms, about 49.7 days, the
    /// longest a timer can wait (a lease's duration ends by one). Longer is refused, not cut short.
    /// </summary>
    public static TimeSpan MaxBudget { get; } = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
}

/// <summary>A session's lease as it stands. <see cref="ExpiresAt"/> is the wall-clock end, if it has one.</summary>
public sealed record LeaseStatus(
    uint Id,
    string Class,
    TimeSpan GpuTimeUsed,
    TimeSpan? MaxGpuTime,
    DateTimeOffset AcquiredAt,
    DateTimeOffset? ExpiresAt,
    ulong DeviceBytes,
    ulong MaxDeviceBytes,
    bool Expired);

/// <summary>
/// One tenant's usage against its limits (0 limits are unlimited), and its accounting since
/// the daemon started. <see cref="GpuSecondsToday"/> is over the last 24 hours;
/// <see cref="ResetsAt"/> is when the oldest of it leaves that window.
/// </summary>
public sealed record TenantStatus(
    uint Uid,
    TenantLimits Limits,
    int Sessions,
    ulong DeviceBytes,
    int Leases,
    double GpuSecondsToday,
    DateTimeOffset? ResetsAt,
    UsageFigures Usage);

/// <summary>
/// What a tenant's (or a model's) steps used: device time, steps run, swap-ins they caused, bytes
/// moved (step copies and swap-ins), and percentiles of their queueing delay (from submission to
/// their start on the device), null before any step ran.
/// </summary>
public sealed record UsageFigures(
    double GpuSeconds,
    long Steps,
    long Swaps,
    ulong BytesMoved,
    double? QueueDelayP50Milliseconds,
    double? QueueDelayP99Milliseconds);
