namespace GpuMux.Engine.Tenants;

/// <summary>
/// A session's budget of device time, wall time and device memory, and the class its steps run
/// in. Spent when <see cref="UsedGpuNs"/> reaches its GPU time or the clock its end; then
/// <see cref="Expired"/> for good. Engine thread only, apart from the timer it may hold.
/// </summary>
internal sealed class Lease(uint id, int classIndex, string className, LeaseRequest request, long nowNs)
{
    public uint Id { get; } = id;

    public int ClassIndex { get; } = classIndex;

    public string ClassName { get; } = className;

    public long MaxGpuNs { get; } = request.MaxGpuTime is { } time ? time.Ticks * 100 : 0;

    /// <summary>0 when the lease has no wall-clock end.</summary>
    public long EndsAtNs { get; } = request.MaxDuration is { } duration ? nowNs + (duration.Ticks * 100) : 0;

    public ulong MaxDeviceBytes { get; } = request.MaxDeviceBytes;

    public DateTimeOffset AcquiredAt { get; } = DateTimeOffset.UtcNow;

    public long AcquiredAtNs { get; } = nowNs;

    public long UsedGpuNs { get; set; }

    /// <summary>Device pool bytes of the buffers allocated under the lease, in whole pages.</summary>
    public ulong DeviceBytes { get; set; }

    public bool Expired { get; set; }

    /// <summary>Fires at <see cref="EndsAtNs"/> to expire the lease on the engine thread.</summary>
    public ITimer? EndTimer { get; set; }

    public string ExpiredMessage => $"lease {Id} has run out; release it and take another";

    public bool IsSpent(long nowNs) =>
        (MaxGpuNs != 0 && UsedGpuNs >= MaxGpuNs) || (EndsAtNs != 0 && nowNs >= EndsAtNs);

    public void ThrowIfOverMemory(ulong more)
    {
        if (MaxDeviceBytes != 0 && more > MaxDeviceBytes - Math.Min(DeviceBytes, MaxDeviceBytes))
        {
            throw new EngineException(
                EngineError.QuotaExceeded,
                $"{more} more bytes of device memory would take lease {Id} past its {MaxDeviceBytes} bytes (its buffers hold {DeviceBytes})");
        }
    }

    public LeaseStatus Snapshot() => new(
        Id,
        ClassName,
        TimeSpan.FromTicks(UsedGpuNs / 100),
        MaxGpuNs == 0 ? null : TimeSpan.FromTicks(MaxGpuNs / 100),
        AcquiredAt,
        EndsAtNs == 0 ? null : AcquiredAt.AddTicks((EndsAtNs - AcquiredAtNs) / 100),
        DeviceBytes,
        MaxDeviceBytes,
        Expired);
}
