using System.Text.Json.Serialization;
using GpuMux.Protocol.Messages;

namespace GpuMux.Cli.Status;

/// <summary>
/// What <c>gpumuxctl status</c> shows: the daemon's StatusReport, with units in the names, less the
/// session that asked for it. A daemon older than protocol 1.2 reports no scheduling: then
/// <see cref="Policy"/> is null and <see cref="Classes"/> empty. <see cref="OtherTenants"/> sums up
/// the sessions the daemon did not show (those of other tenants, to anyone but an administrator);
/// null from a daemon older than 1.4.
/// </summary>
internal sealed record DaemonStatus(
    string Socket,
    string Backend,
    bool Simulated,
    string BackendDescription,
    DeviceStatus Device,
    MemoryStatus Memory,
    long UptimeMs,
    string? Policy,
    IReadOnlyList<ClassStatus> Classes,
    uint SessionsTotal,
    IReadOnlyList<SessionStatus> Sessions,
    OtherTenantsSessions? OtherTenants)
{
    public static DaemonStatus From(string socket, StatusReport report, ulong ownSessionId)
    {
        var device = report.Device;
        var scheduling = report.Scheduling;
        return new DaemonStatus(
            socket,
            report.Backend.ToString().ToLowerInvariant(),
            report.Backend == BackendKind.Sim,
            report.BackendDescription,
            new DeviceStatus(device.Ordinal, device.Name, $"{device.ComputeMajor}.{device.ComputeMinor}", device.Multiprocessors, device.PciBusId),
            new MemoryStatus(report.TotalBytes, report.FreeBytes, report.TotalBytes - Math.Min(report.FreeBytes, report.TotalBytes), report.SessionBytes),
            report.UptimeMs,
            scheduling?.Policy.ToString().ToLowerInvariant(),
            scheduling is { } known ? [.. known.Classes.Select(ClassStatus.From)] : [],
            report.SessionsTotal - 1,
            [.. report.Sessions
                .Select((entry, i) => SessionStatus.From(entry, scheduling?.Sessions[i]))
                .Where(s => s.Id != ownSessionId)],
            report.Others is { } others
                ? new OtherTenantsSessions(others.Tenants, others.Sessions, others.BufferBytes, others.StepsQueued, others.StepsRunning)
                : null);
    }

    /// <summary>Sessions neither listed nor summed up in <see cref="OtherTenants"/>: those that did not fit in the daemon's report.</summary>
    [JsonIgnore]
    public uint SessionsNotListed => SessionsTotal - (uint)Sessions.Count - (OtherTenants?.Sessions ?? 0);
}

/// <summary>The sessions of other tenants, which the daemon shows only to its administrators, summed up.</summary>
internal sealed record OtherTenantsSessions(uint Tenants, uint Sessions, ulong BufferBytes, uint StepsQueued, uint StepsRunning);

internal sealed record DeviceStatus(int Ordinal, string Name, string ComputeCapability, int Multiprocessors, string PciBusId);

/// <param name="SessionBytes">Held by all sessions' buffers; the rest of the used memory is the daemon's and other processes'.</param>
internal sealed record MemoryStatus(ulong TotalBytes, ulong FreeBytes, ulong UsedBytes, ulong SessionBytes);

/// <summary>One priority class's queue; shares are fractions of device time (0.05 is 5 %).</summary>
internal sealed record ClassStatus(string Name, int StreamPriority, uint Queued, uint OnDevice, double RecentShare, double MinimumShare)
{
    public static ClassStatus From(PriorityClassEntry entry) =>
        new(entry.Name, entry.StreamPriority, entry.StepsQueued, entry.StepsOnDevice, entry.RecentShare, entry.MinimumShare);
}

/// <param name="Class">The class its steps run in; null from a daemon older than protocol 1.2.</param>
/// <param name="Lease">Null when it holds none.</param>
internal sealed record SessionStatus(
    ulong Id,
    int Pid,
    uint Uid,
    uint Gid,
    string ClientName,
    DateTimeOffset ConnectedAt,
    uint Buffers,
    ulong BufferBytes,
    uint Regions,
    ulong RegionBytes,
    uint Modules,
    uint StepsQueued,
    uint StepsRunning,
    ulong StepsCompleted,
    ulong StepsFailed,
    string? Class,
    LeaseStatus? Lease)
{
    public static SessionStatus From(SessionEntry entry, SessionClassEntry? scheduling) => new(
        entry.SessionId,
        entry.Pid,
        entry.Uid,
        entry.Gid,
        entry.ClientName,
        DateTimeOffset.FromUnixTimeMilliseconds(entry.ConnectedAtUnixMs),
        entry.Buffers,
        entry.BufferBytes,
        entry.Regions,
        entry.RegionBytes,
        entry.Modules,
        entry.StepsQueued,
        entry.StepsRunning,
        entry.StepsCompleted,
        entry.StepsFailed,
        scheduling?.Class,
        scheduling?.Lease is { } lease ? LeaseStatus.From(lease) : null);
}

/// <summary>A session's lease; null limits are none.</summary>
internal sealed record LeaseStatus(
    uint Id,
    string Class,
    DateTimeOffset AcquiredAt,
    DateTimeOffset? ExpiresAt,
    double GpuSecondsUsed,
    double? MaxGpuSeconds,
    ulong DeviceBytes,
    ulong? MaxDeviceBytes,
    bool Expired)
{
    public static LeaseStatus From(LeaseInfo lease) => new(
        lease.Id,
        lease.Class,
        DateTimeOffset.FromUnixTimeMilliseconds(lease.AcquiredAtUnixMs),
        lease.ExpiresAtUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(lease.ExpiresAtUnixMs) : null,
        lease.GpuNsUsed / 1e9,
        lease.MaxGpuNs > 0 ? lease.MaxGpuNs / 1e9 : null,
        lease.DeviceBytes,
        lease.MaxDeviceBytes > 0 ? lease.MaxDeviceBytes : null,
        lease.Expired);
}
