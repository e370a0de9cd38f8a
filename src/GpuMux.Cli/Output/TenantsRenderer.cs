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
            console.Write(TenantTable(report.Tenants, now));
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

    private static Table TenantTable(IReadOnlyList<TenantStatus> tenants, DateTimeOffset now)
    {
        var table = new Table()
            .AddColumn(new TableColumn("UID").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Weight").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Sessions").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Device memory").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Leases").RightAligned().NoWrap())
            .AddColumn(new TableColumn("GPU s, 24 h").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Resets").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Steps").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Swaps").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Moved").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Queue p50 / p99").RightAligned().NoWrap());
        foreach (var tenant in tenants)
        {
            table.AddRow(
                new Text(tenant.Uid.ToString(Invariant)),
                new Text(tenant.Weight.ToString("0.##", Invariant)),
                new Text(tenant.Sessions.ToString(Invariant)),
                new Text($"{ByteSize.Format(tenant.DeviceBytes)} / {Limit(tenant.MaxDeviceBytes, ByteSize.Format)}"),
                new Text($"{tenant.Leases.ToString(Invariant)} / {Limit(tenant.MaxLeases, leases => leases.ToString(Invariant))}"),
                new Text(DailyGpuTime(tenant)),
                new Text(tenant.ResetsAt is { } at ? $"in {Durations.Short(at - now)}" : "-"),
                new Text(tenant.Steps.ToString(Invariant)),
                new Text(tenant.Swaps.ToString(Invariant)),
                new Text(ByteSize.Format(tenant.BytesMoved)),
                new Text(Durations.Percentiles(tenant.QueueDelayP50Ms, tenant.QueueDelayP99Ms)));
        }

        return table;
    }

    private static string Limit<T>(T? limit, Func<T, string> format)
        where T : struct => limit is { } value ? format(value) : "unlimited";
}
