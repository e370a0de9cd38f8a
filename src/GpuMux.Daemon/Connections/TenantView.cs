using GpuMux.Engine;
using GpuMux.Engine.Tenants;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// What one session may see of the daemon in the operator reports (status, tenants, models). An
/// administrator sees everything. Anyone else sees its own tenant's sessions, models and
/// accounting in full, and the other tenants' only summed up: no pid, uid, client name or model
/// name of theirs, since those say who runs what.
/// </summary>
internal sealed class TenantView(uint uid, bool seesEveryTenant)
{
    public (SessionStatus[] Shown, OtherSessions Others) Split(IReadOnlyList<SessionStatus> sessions)
    {
        var (shown, hidden) = Split(sessions, session => session.Identity.Uid);
        return (shown, new OtherSessions(
            (uint)hidden.Select(session => session.Identity.Uid).Distinct().Count(),
            (uint)hidden.Length,
            hidden.Aggregate(0UL, (sum, session) => sum + session.BufferBytes),
            (uint)hidden.Sum(session => session.StepsQueued),
            (uint)hidden.Sum(session => session.StepsRunning)));
    }

    public (TenantStatus[] Shown, OtherTenants Others) Split(IReadOnlyList<TenantStatus> tenants)
    {
        var (shown, hidden) = Split(tenants, tenant => tenant.Uid);
        return (shown, new OtherTenants(
            (uint)hidden.Length,
            (uint)hidden.Sum(tenant => tenant.Sessions),
            hidden.Aggregate(0UL, (sum, tenant) => sum + tenant.DeviceBytes),
            (uint)hidden.Sum(tenant => tenant.Leases),
            hidden.Sum(tenant => tenant.GpuSecondsToday)));
    }

    public (ModelStatus[] Shown, OtherModels Others) Split(IReadOnlyList<ModelStatus> models)
    {
        var (shown, hidden) = Split(models, model => model.OwnerUid);
        return (shown, new OtherModels(
            (uint)hidden.Length,
            hidden.Aggregate(0UL, (sum, model) => sum + model.Bytes),
            (uint)hidden.Count(model => model.Resident)));
    }

    private (T[] Shown, T[] Hidden) Split<T>(IReadOnlyList<T> items, Func<T, uint> owner)
    {
        if (seesEveryTenant)
        {
            return ([.. items], []);
        }

        var shown = items.Where(item => owner(item) == uid).ToArray();
        var hidden = items.Where(item => owner(item) != uid).ToArray();
        return (shown, hidden);
    }
}
