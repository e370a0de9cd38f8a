namespace GpuMux.Engine.Tenants;

/// <summary>
/// Every tenant the engine has seen, kept after its last session closes so its usage over the
/// day still counts. Limits come from <see cref="TenantLimitsOptions"/> and change on reload.
/// Engine thread only.
/// </summary>
internal sealed class TenantBook(TenantLimitsOptions limits)
{
    private readonly Dictionary<uint, Tenant> _tenants = [];
    private TenantLimitsOptions _limits = limits;

    public Tenant this[uint uid]
    {
        get
        {
            if (!_tenants.TryGetValue(uid, out var tenant))
            {
                tenant = new Tenant(uid, _limits.For(uid));
                _tenants.Add(uid, tenant);
            }
            return tenant;
        }
    }

    public void Update(TenantLimitsOptions limits)
    {
        _limits = limits;
        foreach (var tenant in _tenants.Values)
        {
            tenant.Limits = limits.For(tenant.Uid);
        }
    }

    public IReadOnlyList<TenantStatus> Snapshot(long nowNs) =>
        [.. _tenants.Values.OrderBy(t => t.Uid).Select(t => t.Snapshot(nowNs))];
}
