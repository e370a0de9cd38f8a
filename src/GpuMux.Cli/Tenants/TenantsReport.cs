using System.Text.Json.Serialization;
using GpuMux.Cli.Output;
using GpuMux.Protocol.Messages;

namespace GpuMux.Cli.Tenants;

/// <summary>
/// What <c>gpumuxctl tenants</c> shows: the daemon's TenantReport, with units in the names and no
/// limit as null. <see cref="OtherTenants"/> sums up the tenants the daemon did not show (all but
/// the asker's own, to anyone but an administrator); null from a daemon older than protocol 1.4.
/// </summary>
internal sealed record TenantsReport(string Socket, uint TenantsTotal, IReadOnlyList<TenantStatus> Tenants, OtherTenantsUsage? OtherTenants)
{
    public static TenantsReport From(string socket, TenantReport report) =>
        new(
            socket,
            report.TenantsTotal,
            [.. report.Tenants.Select(TenantStatus.From)],
            report.Others is { } others
                ? new OtherTenantsUsage(others.Tenants, others.Sessions, others.DeviceBytes, others.Leases, others.GpuSecondsToday)
                : null);

    /// <summary>Tenants neither listed nor summed up in <see cref="OtherTenants"/>: those that did not fit in the daemon's report.</summary>
    [JsonIgnore]
    public uint TenantsNotListed => TenantsTotal - (uint)Tenants.Count - (OtherTenants?.Tenants ?? 0);
}

/// <summary>The tenants the daemon shows only to its administrators, summed up; GPU seconds are over the last 24 hours.</summary>
internal sealed record OtherTenantsUsage(uint Tenants, uint Sessions, ulong DeviceBytes, uint Leases, double GpuSecondsToday);

/// <summary>
/// One uid's usage against its limits (null: no limit), and its accounting since the daemon
/// started. GPU seconds "today" are over the last 24 hours; <see cref="ResetsAt"/> is when the
/// oldest of them leaves that window.
/// </summary>
/// <param name="GpuSecondsLeft">What remains of <see cref="GpuSecondsPerDay"/>; null without that limit.</param>
/// <param name="HighestClass">The highest class its leases may ask for; null for any.</param>
/// <param name="QueueDelayP50Ms">Percentiles of its steps' waits before the device; null before any ran.</param>
internal sealed record TenantStatus(
    uint Uid,
    double Weight,
    uint Sessions,
    ulong DeviceBytes,
    ulong? MaxDeviceBytes,
    uint Leases,
    uint? MaxLeases,
    double GpuSecondsToday,
    double? GpuSecondsPerDay,
    double? GpuSecondsLeft,
    DateTimeOffset? ResetsAt,
    string? HighestClass,
    double GpuSeconds,
    ulong Steps,
    ulong Swaps,
    ulong BytesMoved,
    double? QueueDelayP50Ms,
    double? QueueDelayP99Ms)
{
    public static TenantStatus From(TenantEntry entry) => new(
        entry.Uid,
        entry.Weight,
        entry.Sessions,
        entry.DeviceBytes,
        entry.MaxDeviceBytes > 0 ? entry.MaxDeviceBytes : null,
        entry.Leases,
        entry.MaxLeases > 0 ? entry.MaxLeases : null,
        entry.GpuSecondsToday,
        entry.GpuSecondsPerDay > 0 ? entry.GpuSecondsPerDay : null,
        entry.GpuSecondsPerDay > 0 ? Math.Max(0, entry.GpuSecondsPerDay - entry.GpuSecondsToday) : null,
        entry.ResetsAtUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(entry.ResetsAtUnixMs) : null,
        entry.HighestClass.Length > 0 ? entry.HighestClass : null,
        entry.Usage.GpuSeconds,
        entry.Usage.Steps,
        entry.Usage.Swaps,
        entry.Usage.BytesMoved,
        WireNumbers.Measured(entry.Usage.QueueDelayP50Ms),
        WireNumbers.Measured(entry.Usage.QueueDelayP99Ms));
}
