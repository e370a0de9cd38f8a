using System.Globalization;
using GpuMux.Cli.Status;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GpuMux.Cli.Output;

/// <summary>
/// <c>gpumuxctl status</c> for people, laid out like nvidia-smi: a block on the daemon and its
/// device, then one row per session.
/// </summary>
internal static class StatusRenderer
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Style Label = new(decoration: Decoration.Dim);
    private static readonly Style Loud = new(Color.Yellow, decoration: Decoration.Bold);

    public static void Write(IAnsiConsole console, DaemonStatus status)
    {
        console.Write(Header(status));
        console.WriteLine();
        if (status.Sessions.Count > 0)
        {
            console.Write(SessionTable(status.Sessions));
        }

        if (status.SessionsTotal > status.Sessions.Count)
        {
            console.Write(new Text($"{status.SessionsTotal - status.Sessions.Count} more sessions did not fit in the daemon's report.", Label));
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
        Row(grid, "Sessions", new Text(status.SessionsTotal.ToString(Invariant)));
        return grid;
    }

    private static Table SessionTable(IReadOnlyList<SessionStatus> sessions)
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
        foreach (var session in sessions)
        {
            table.AddRow(
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
                new Text(session.ConnectedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant)));
        }

        return table;
    }

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
