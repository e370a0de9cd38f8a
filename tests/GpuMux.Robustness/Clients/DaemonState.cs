using GpuMux.Client;
using static Tmds.Linux.LibC;

namespace GpuMux.Robustness.Clients;

/// <summary>
/// What the daemon says it holds, from a session's own status, model list and tenant report:
/// sessions, buffers, leases, models and the free memory of its pools.
/// </summary>
internal readonly record struct DaemonState(
    uint Sessions,
    ulong BufferBytes,
    uint Leases,
    uint Models,
    ulong DevicePoolFreeBytes,
    ulong PinnedPoolFreeBytes)
{
    public static async Task<DaemonState> ReadAsync(GpuMuxClient observer, CancellationToken cancellationToken)
    {
        var status = await observer.GetStatusAsync(cancellationToken);
        var models = await observer.ListModelsAsync(cancellationToken);
        var tenants = await observer.GetTenantsAsync(cancellationToken);
        var uid = getuid();
        var leases = tenants.Tenants.Where(tenant => tenant.Uid == uid).Sum(tenant => (long)tenant.Leases);
        return new DaemonState(status.SessionsTotal, status.SessionBytes, (uint)leases, models.ModelsTotal, models.DevicePoolFreeBytes, models.PinnedPoolFreeBytes);
    }

    /// <summary>What <paramref name="later"/> holds beyond this state, field by field, named for a report; empty when it is back to this.</summary>
    public IReadOnlyList<(string Name, long Excess)> Excess(DaemonState later) =>
    [
        ("sessions", (long)later.Sessions - Sessions),
        ("buffer bytes", (long)later.BufferBytes - (long)BufferBytes),
        ("leases", (long)later.Leases - Leases),
        ("models", (long)later.Models - Models),
        ("device pool bytes not returned", (long)DevicePoolFreeBytes - (long)later.DevicePoolFreeBytes),
        ("pinned pool bytes not returned", (long)PinnedPoolFreeBytes - (long)later.PinnedPoolFreeBytes),
    ];
}
