using GpuMux.Protocol.Messages;

namespace GpuMux.Cli.Status;

/// <summary>
/// What <c>gpumuxctl status</c> shows: the daemon's StatusReport, with units in the names, less the
/// session that asked for it.
/// </summary>
internal sealed record DaemonStatus(
    string Socket,
    string Backend,
    bool Simulated,
    string BackendDescription,
    DeviceStatus Device,
    MemoryStatus Memory,
    long UptimeMs,
    uint SessionsTotal,
    IReadOnlyList<SessionStatus> Sessions)
{
    public static DaemonStatus From(string socket, StatusReport report, ulong ownSessionId)
    {
        var device = report.Device;
        return new DaemonStatus(
            socket,
            report.Backend.ToString().ToLowerInvariant(),
            report.Backend == BackendKind.Sim,
            report.BackendDescription,
            new DeviceStatus(device.Ordinal, device.Name, $"{device.ComputeMajor}.{device.ComputeMinor}", device.Multiprocessors, device.PciBusId),
            new MemoryStatus(report.TotalBytes, report.FreeBytes, report.TotalBytes - Math.Min(report.FreeBytes, report.TotalBytes), report.SessionBytes),
            report.UptimeMs,
            report.SessionsTotal - 1,
            [.. report.Sessions.Where(s => s.SessionId != ownSessionId).Select(SessionStatus.From)]);
    }
}

internal sealed record DeviceStatus(int Ordinal, string Name, string ComputeCapability, int Multiprocessors, string PciBusId);

/// <param name="SessionBytes">Held by all sessions' buffers; the rest of the used memory is the daemon's and other processes'.</param>
internal sealed record MemoryStatus(ulong TotalBytes, ulong FreeBytes, ulong UsedBytes, ulong SessionBytes);

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
    ulong StepsFailed)
{
    public static SessionStatus From(SessionEntry entry) => new(
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
        entry.StepsFailed);
}
