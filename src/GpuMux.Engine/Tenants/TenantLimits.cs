namespace GpuMux.Engine.Tenants;

/// <summary>
/// What one tenant (a uid) may use. 0 means unlimited for every limit. <see cref="Weight"/> is
/// its share of device time within a class relative to other tenants with work in that class.
/// </summary>
public sealed record TenantLimits
{
    public double Weight { get; init; } = 1;

    /// <summary>Device bytes the buffers of all the tenant's sessions may hold, in whole pool pages.</summary>
    public ulong MaxDeviceBytes { get; init; }

    /// <summary>Leases the tenant's sessions may hold at once.</summary>
    public int MaxLeases { get; init; }

    /// <summary>Device time the tenant's steps may take over any 24 hours.</summary>
    public double GpuSecondsPerDay { get; init; }

    /// <summary>The highest class the tenant's leases may ask for; null for any.</summary>
    public string? HighestClass { get; init; }

    /// <summary>Whether the tenant's sessions may load modules of their own, or run the built-in kernels only.</summary>
    public KernelPolicy Kernels { get; init; } = KernelPolicy.Builtin;

    internal void Validate(string who)
    {
        if (!(Weight > 0 && Weight <= 1000))
        {
            throw new ArgumentException($"the weight of {who} must be above 0 and at most 1000, not {Weight}");
        }
        if (MaxLeases < 0)
        {
            throw new ArgumentException($"the lease limit of {who} must not be negative");
        }
        if (!(GpuSecondsPerDay >= 0))
        {
            throw new ArgumentException($"the GPU seconds per day of {who} must not be negative");
        }
        if (!Enum.IsDefined(Kernels))
        {
            throw new ArgumentException($"the kernel policy of {who} must be builtin or trusted, not {(int)Kernels}");
        }
    }
}

/// <summary>Limits for every tenant: <see cref="Default"/>, unless <see cref="ByUid"/> names the uid.</summary>
public sealed record TenantLimitsOptions
{
    public TenantLimits Default { get; init; } = new();

    public IReadOnlyDictionary<uint, TenantLimits> ByUid { get; init; } = new Dictionary<uint, TenantLimits>();

    public TenantLimits For(uint uid) => ByUid.TryGetValue(uid, out var limits) ? limits : Default;

    internal void Validate(Scheduling.SchedulingOptions scheduling)
    {
        Check("the default tenant", Default, scheduling);
        foreach (var (uid, limits) in ByUid)
        {
            Check($"uid {uid}", limits, scheduling);
        }
    }

    private static void Check(string who, TenantLimits limits, Scheduling.SchedulingOptions scheduling)
    {
        limits.Validate(who);
        if (limits.HighestClass is { } highest && scheduling.IndexOf(highest) < 0)
        {
            throw new ArgumentException($"the highest class of {who}, {highest}, is not one of the classes");
        }
    }
}
