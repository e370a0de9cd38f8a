namespace GpuMux.Engine.Tenants;

/// <summary>One uid as the engine counts it: its limits, what it holds now, and what it has used. Engine thread only.</summary>
internal sealed class Tenant(uint uid, TenantLimits limits)
{
    public uint Uid { get; } = uid;

    public TenantLimits Limits { get; set; } = limits;

    public UsageAccount Usage { get; } = new();

    public RollingDay Day { get; } = new();

    /// <summary>Device pool bytes its sessions' buffers hold, in whole pages.</summary>
    public ulong DeviceBytes { get; set; }

    public int Leases { get; set; }

    public int Sessions { get; set; }

    public void ThrowIfOverDevice(ulong more)
    {
        var limit = Limits.MaxDeviceBytes;
        if (limit != 0 && more > limit - Math.Min(DeviceBytes, limit))
        {
            throw new EngineException(
                EngineError.QuotaExceeded,
                $"{more} more bytes of device memory would take the buffers of uid {Uid}, over all its sessions, past its {limit} bytes (they hold {DeviceBytes})");
        }
    }

    /// <summary>Null while the tenant is within its device time for the day; otherwise why its steps are refused.</summary>
    public string? OverDailyTime(long nowNs)
    {
        var limit = Limits.GpuSecondsPerDay;
        if (limit == 0)
        {
            return null;
        }
        var used = Day.TotalNs(nowNs) / 1e9;
        if (used < limit)
        {
            return null;
        }
        var resets = Day.OldestLeavesAtNs(nowNs) is { } at ? $"; some of it leaves the window in {TimeSpan.FromTicks((at - nowNs) / 100):c}" : string.Empty;
        return $"uid {Uid} has used {used:F1} of its {limit} GPU seconds over the last 24 hours{resets}";
    }

    public TenantStatus Snapshot(long nowNs)
    {
        var leavesAt = Day.OldestLeavesAtNs(nowNs);
        return new TenantStatus(
            Uid,
            Limits,
            Sessions,
            DeviceBytes,
            Leases,
            Day.TotalNs(nowNs) / 1e9,
            leavesAt is { } at ? DateTimeOffset.UtcNow.AddTicks((at - nowNs) / 100) : null,
            Usage.Figures());
    }
}
