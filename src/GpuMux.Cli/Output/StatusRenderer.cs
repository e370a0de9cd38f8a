using System.Globalization;
using GpuMux.Cli.Status;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GpuMux.Cli.Output;

/// <summary>
/// <c>gpumuxctl status</c> for people, laid out like nvidia-smi: a block on the daemon and its
/// device, the priority classes' queues, then one row per session.
/// </summary>
internal static class StatusRenderer
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Style Label = new(decoration: Decoration.Dim);
    private static readonly Style Loud = new(Color.Yellow, decoration: Decoration.Bold);

    /// <param name="now">What leases' ages are relative to.</param>
    public static void Write(IAnsiConsole console, DaemonStatus status, DateTimeOffset now)
    {
        console.Write(Header(status));
        console.WriteLine();
        if (status.Classes.Count > 0)
        {
            console.Write(ClassTable(status.Classes));
        }

        if (status.Sessions.Count > 0)
        {
            console.Write(SessionTable(status.Sessions, withClasses: status.Policy is not null, now));
        }

        if (status.OtherTenants is { Sessions: > 0 } others)
        {
            console.Write(new Text(
                $"{Counts.Of(others.Sessions, "session")} of {Counts.Of(others.Tenants, "other tenant")}, not shown: "
                + $"{ByteSize.Format(others.BufferBytes)} of buffers, {Counts.Of(others.StepsQueued, "step")} queued, {others.StepsRunning.ToString(Invariant)} running.",
                Label));
            console.WriteLine();
        }

        if (status.SessionsNotListed > 0)
        {
            console.Write(new Text($"{status.SessionsNotListed} more sessions did not fit in the daemon's report.", Label));
            console.WriteLine();
        }
    }

    private static Grid Header(DaemonStatus status)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        var memory = status.Memory;
        var device = status.Device;
        Row(grid, "gpumuxd", new Text($"{status.Socket}, up {Uptime(status.UptimeMs)}"));
        Row(grid, "Backend", status.Simulated
            ? new Text($"Sim (simulated device, no GPU): {status.BackendDescription}", Loud)
            : new Text($"CUDA: {status.BackendDescription}"));
        Row(grid, "Device", new Text(
            $"{device.Ordinal}: {device.Name}, compute {device.ComputeCapability}, {device.Multiprocessors} SMs, PCI {device.PciBusId}"));
        Row(grid, "Memory", new Text(
            $"{ByteSize.Format(memory.UsedBytes)} used, {ByteSize.Format(memory.FreeBytes)} free, {ByteSize.Format(memory.TotalBytes)} total; "
            + $"sessions' buffers {ByteSize.Format(memory.SessionBytes)}"));
        if (status.Policy is { } policy)
        {
            Row(grid, "Scheduling", new Text($"{policy} policy"));
        }

        Row(grid, "Sessions", new Text(status.SessionsTotal.ToString(Invariant)));
        return grid;
    }

    /// <summary>
    /// A lease for people: its age, and its GPU time used against its budget
    /// (<c>5 min, GPU 1.20 / 10.0 s</c>); <c>-</c> without one.
    /// </summary>
    public static string Lease(LeaseStatus? lease, DateTimeOffset now)
    {
        if (lease is null)
        {
            return "-";
        }

        var budget = lease.MaxGpuSeconds is { } max ? $"{Durations.Seconds(max)} s" : "unlimited";
        var text = $"{Durations.Short(now - lease.AcquiredAt)}, GPU {Durations.Seconds(lease.GpuSecondsUsed)} s / {budget}";
        return lease.Expired ? text + ", expired" : text;
    }

    private static Table ClassTable(IReadOnlyList<ClassStatus> classes)
    {
        var table = new Table()
            .AddColumn("Class")
            .AddColumn(new TableColumn("Stream priority").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Queued").RightAligned().NoWrap())
            .AddColumn(new TableColumn("On device").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Recent share").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Minimum share").RightAligned().NoWrap());
        foreach (var priorityClass in classes)
        {
            table.AddRow(
                new Text(priorityClass.Name),
                Plain(priorityClass.StreamPriority),
                Plain(priorityClass.Queued),
                Plain(priorityClass.OnDevice),
                new Text(Percent(priorityClass.RecentShare)),
                new Text(Percent(priorityClass.MinimumShare)));
        }

        return table;
    }

    private static Table SessionTable(IReadOnlyList<SessionStatus> sessions, bool withClasses, DateTimeOffset now)
    {
        var table = new Table()
            .AddColumn(new TableColumn("Session").RightAligned().NoWrap())
            .AddColumn(new TableColumn("PID").RightAligned().NoWrap())
            .AddColumn(new TableColumn("UID").RightAligned().NoWrap())
            .AddColumn("Client")
            .AddColumn(new TableColumn("Buffers").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Regions").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Modules").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Queued").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Running").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Completed").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Failed").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Connected").NoWrap());
        if (withClasses)
        {
            table.AddColumn(new TableColumn("Class").NoWrap()).AddColumn(new TableColumn("Lease").NoWrap());
        }

        foreach (var session in sessions)
        {
            List<IRenderable> cells =
            [
                Plain(session.Id),
                Plain(session.Pid),
                Plain(session.Uid),
                new Text(session.ClientName),
                new Text($"{session.Buffers.ToString(Invariant)} ({ByteSize.Format(session.BufferBytes)})"),
                new Text($"{session.Regions.ToString(Invariant)} ({ByteSize.Format(session.RegionBytes)})"),
                Plain(session.Modules),
                Plain(session.StepsQueued),
                Plain(session.StepsRunning),
                Plain(session.StepsCompleted),
                Plain(session.StepsFailed),
                new Text(session.ConnectedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant)),
            ];
            if (withClasses)
            {
                cells.Add(new Text(session.Class ?? "-"));
                cells.Add(new Text(Lease(session.Lease, now)));
            }

            table.AddRow(cells);
        }

        return table;
    }

    private static string Percent(double share) => (share * 100).ToString("0.0", Invariant) + " %";

    private static void Row(Grid grid, string label, IRenderable value) => grid.AddRow(new Text(label, Label), value);

    private static Text Plain<T>(T value)
        where T : IFormattable => new(value.ToString(null, Invariant));

    private static string Uptime(long milliseconds)
    {
        var uptime = TimeSpan.FromMilliseconds(Math.Max(0, milliseconds));
        return uptime.TotalDays >= 1
            ? $"{(int)uptime.TotalDays}d {uptime:hh\\:mm\\:ss}"
            : uptime.ToString(@"hh\:mm\:ss", Invariant);
    }
}
