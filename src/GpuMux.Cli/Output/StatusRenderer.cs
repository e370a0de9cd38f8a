using System.Globalization;
using GpuMux.Cli.Status;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GpuMux.Cli.Output;

/// <summary>
/// <c>gpumuxctl status</c> for people, laid out like nvidia-smi: a block on the daemon and its
/// device, the priority classes' queues, then one row per session, each table as wide as the
/// terminal allows (<see cref="FittedTable{TRow}"/>).
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
            WriteClassTable(console, status.Classes);
        }

        if (status.Sessions.Count > 0)
        {
            WriteSessionTable(console, status.Sessions, withClasses: status.Policy is not null, now);
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

    private static void WriteClassTable(IAnsiConsole console, IReadOnlyList<ClassStatus> classes) =>
        new FittedTable<ClassStatus>()
            .Add("Class", ColumnKind.Word, Columns.Always, c => new Text(c.Name))
            .Add("Stream priority", ColumnKind.Number, 10, c => Plain(c.StreamPriority))
            .Add("Queued", ColumnKind.Number, 50, c => Plain(c.Queued))
            .Add("On device", ColumnKind.Number, 40, c => Plain(c.OnDevice))
            .Add("Recent share", ColumnKind.Number, 30, c => new Text(Percent(c.RecentShare)))
            .Add("Minimum share", ColumnKind.Number, 20, c => new Text(Percent(c.MinimumShare)))
            .Write(console, classes);

    // Who the session is stays whole; then what it holds and runs; its history and its lease go first.
    private static void WriteSessionTable(IAnsiConsole console, IReadOnlyList<SessionStatus> sessions, bool withClasses, DateTimeOffset now)
    {
        var table = new FittedTable<SessionStatus>()
            .Add("Session", ColumnKind.Number, Columns.Always, s => Plain(s.Id))
            .Add("PID", ColumnKind.Number, Columns.Always, s => Plain(s.Pid))
            .Add("UID", ColumnKind.Number, Columns.Always, s => Plain(s.Uid))
            .Add("Client", ColumnKind.Text, 90, s => new Text(s.ClientName))
            .Add("Buffers", ColumnKind.Number, 80, s => new Text($"{s.Buffers.ToString(Invariant)} ({ByteSize.Format(s.BufferBytes)})"))
            .Add("Regions", ColumnKind.Number, 25, s => new Text($"{s.Regions.ToString(Invariant)} ({ByteSize.Format(s.RegionBytes)})"))
            .Add("Modules", ColumnKind.Number, 30, s => Plain(s.Modules))
            .Add("Queued", ColumnKind.Number, 70, s => Plain(s.StepsQueued))
            .Add("Running", ColumnKind.Number, 75, s => Plain(s.StepsRunning))
            .Add("Completed", ColumnKind.Number, 50, s => Plain(s.StepsCompleted))
            .Add("Failed", ColumnKind.Number, 55, s => Plain(s.StepsFailed))
            .Add("Connected", ColumnKind.Word, 20, s => new Text(s.ConnectedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant)));
        if (withClasses)
        {
            table
                .Add("Class", ColumnKind.Word, 60, s => new Text(s.Class ?? "-"))
                .Add("Lease", ColumnKind.Word, 40, s => new Text(Lease(s.Lease, now)));
        }

        table.Write(console, sessions);
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
