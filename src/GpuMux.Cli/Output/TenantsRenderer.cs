using System.Globalization;
using GpuMux.Cli.Tenants;
using Spectre.Console;

namespace GpuMux.Cli.Output;

/// <summary>
/// <c>gpumuxctl tenants</c> for people, laid out like <c>status</c>: one row per uid, its usage
/// against each limit ("unlimited" where it has none), then its accounting.
/// </summary>
internal static class TenantsRenderer
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Style Label = new(decoration: Decoration.Dim);

    /// <param name="now">What the daily GPU time's reset is relative to.</param>
    public static void Write(IAnsiConsole console, TenantsReport report, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Text("gpumuxd", Label), new Text(report.Socket));
        grid.AddRow(new Text("Tenants", Label), new Text(report.TenantsTotal.ToString(Invariant)));
        console.Write(grid);
        console.WriteLine();
        if (report.Tenants.Count > 0)
        {
            WriteTenantTable(console, report.Tenants, now);
        }
        else if (report.TenantsTotal == 0)
        {
            console.Write(new Text("No tenant has a session or used the GPU in the last 24 hours.", Label));
            console.WriteLine();
        }

        if (report.OtherTenants is { Tenants: > 0 } others)
        {
            console.Write(new Text(
                $"{Counts.Of(others.Tenants, "other tenant")}, not shown: {Counts.Of(others.Sessions, "session")}, "
                + $"{ByteSize.Format(others.DeviceBytes)} of device memory, {Counts.Of(others.Leases, "lease")}, {Durations.Seconds(others.GpuSecondsToday)} GPU s in 24 h.",
                Label));
            console.WriteLine();
        }

        if (report.TenantsNotListed > 0)
        {
            console.Write(new Text($"{report.TenantsNotListed} more tenants did not fit in the daemon's report.", Label));
            console.WriteLine();
        }
    }

    /// <summary>GPU seconds of the last 24 hours against the daily limit: <c>12.3 / 3600 (3588 left)</c>.</summary>
    public static string DailyGpuTime(TenantStatus tenant) =>
        tenant.GpuSecondsPerDay is { } limit
            ? $"{Durations.Seconds(tenant.GpuSecondsToday)} / {Durations.Seconds(limit)} ({Durations.Seconds(tenant.GpuSecondsLeft ?? 0)} left)"
            : $"{Durations.Seconds(tenant.GpuSecondsToday)} / unlimited";

    // The uid stays whole; then its usage against its limits; its accounting goes first.
    private static void WriteTenantTable(IAnsiConsole console, IReadOnlyList<TenantStatus> tenants, DateTimeOffset now) =>
        new FittedTable<TenantStatus>()
            .Add("UID", ColumnKind.Number, Columns.Always, t => new Text(t.Uid.ToString(Invariant)))
            .Add("Weight", ColumnKind.Number, 40, t => new Text(t.Weight.ToString("0.##", Invariant)))
            .Add("Sessions", ColumnKind.Number, 80, t => new Text(t.Sessions.ToString(Invariant)))
            .Add("Device memory", ColumnKind.Number, 90, t => new Text($"{ByteSize.Format(t.DeviceBytes)} / {Limit(t.MaxDeviceBytes, ByteSize.Format)}"))
            .Add("Leases", ColumnKind.Number, 70, t => new Text($"{t.Leases.ToString(Invariant)} / {Limit(t.MaxLeases, leases => leases.ToString(Invariant))}"))
            .Add("GPU s, 24 h", ColumnKind.Number, 85, t => new Text(DailyGpuTime(t)))
            .Add("Resets", ColumnKind.Number, 30, t => new Text(t.ResetsAt is { } at ? $"in {Durations.Short(at - now)}" : "-"))
            .Add("Steps", ColumnKind.Number, 60, t => new Text(t.Steps.ToString(Invariant)))
            .Add("Swaps", ColumnKind.Number, 20, t => new Text(t.Swaps.ToString(Invariant)))
            .Add("Moved", ColumnKind.Number, 10, t => new Text(ByteSize.Format(t.BytesMoved)))
            .Add("Queue p50 / p99", ColumnKind.Number, 50, t => new Text(Durations.Percentiles(t.QueueDelayP50Ms, t.QueueDelayP99Ms)))
            .Write(console, tenants);

    private static string Limit<T>(T? limit, Func<T, string> format)
        where T : struct => limit is { } value ? format(value) : "unlimited";
}
