using System.Globalization;
using GpuMux.Cli.Models;
using Spectre.Console;

namespace GpuMux.Cli.Output;

/// <summary>
/// <c>gpumuxctl models</c> for people, laid out like <c>status</c>: a block on the daemon's memory
/// pools, then one row per model, with what its steps have used (<c>-</c> where the daemon does not say).
/// </summary>
internal static class ModelsRenderer
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Style Label = new(decoration: Decoration.Dim);

    /// <param name="now">What "last use" is relative to.</param>
    public static void Write(IAnsiConsole console, ModelsReport report, DateTimeOffset now)
    {
        console.Write(Header(report));
        console.WriteLine();
        if (report.Models.Count > 0)
        {
            WriteModelTable(console, report.Models, now);
        }
        else if (report.ModelsTotal == 0)
        {
            console.Write(new Text("No models are registered.", Label));
            console.WriteLine();
        }

        if (report.OtherTenants is { Models: > 0 } others)
        {
            console.Write(new Text(
                $"{Counts.Of(others.Models, "model")} of other tenants, not shown: {ByteSize.Format(others.Bytes)}, {others.Resident.ToString(Invariant)} on the device.",
                Label));
            console.WriteLine();
        }

        if (report.ModelsNotListed > 0)
        {
            console.Write(new Text($"{report.ModelsNotListed} more models did not fit in the daemon's report.", Label));
            console.WriteLine();
        }
    }

    /// <summary>How long ago: <c>3 s ago</c>, <c>5 min ago</c>, <c>2 d ago</c>, or <c>never</c>.</summary>
    public static string LastUse(DateTimeOffset? lastUsedAt, DateTimeOffset now) =>
        lastUsedAt is { } at ? $"{Durations.Short(now - at)} ago" : "never";

    /// <summary>A transfer rate in decimal gigabytes per second, the unit PCIe bandwidth is quoted in; <c>-</c> when never measured.</summary>
    public static string GigabytesPerSecond(double? bytesPerSecond) =>
        bytesPerSecond is { } rate ? (rate / 1e9).ToString("0.0", Invariant) : "-";

    private static Grid Header(ModelsReport report)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        Row(grid, "gpumuxd", report.Socket);
        Row(grid, "Device pool", Pool(report.DevicePool));
        Row(grid, "Pinned pool", Pool(report.PinnedPool));
        if (report.BufferSpills is { } spills)
        {
            Row(grid, "Spilled buffers", Spilled(spills));
        }
        Row(grid, "Models", report.ModelsTotal.ToString(Invariant));
        return grid;
    }

    // The session, name and owner stay whole; then where the model is and how it swaps; its usage goes first.
    private static void WriteModelTable(IAnsiConsole console, IReadOnlyList<ModelStatus> models, DateTimeOffset now) =>
        new FittedTable<ModelStatus>()
            .Add("Session", ColumnKind.Number, Columns.Always, m => Plain(m.Session))
            .Add("Name", ColumnKind.Word, Columns.Always, m => new Text(m.Name))
            .Add("UID", ColumnKind.Number, Columns.Always, m => Plain(m.OwnerUid))
            .Add("Size", ColumnKind.Number, 90, m => new Text(ByteSize.Format(m.Bytes)))
            .Add("Tensors", ColumnKind.Number, 30, m => Plain(m.Tensors))
            .Add("Groups", ColumnKind.Number, 25, m => Plain(m.Groups))
            .Add("Tier", ColumnKind.Word, 70, m => new Text(m.Tier))
            .Add("Resident", ColumnKind.Word, 85, m => new Text(m.Resident ? "yes" : "no"))
            .Add("Last use", ColumnKind.Number, 75, m => new Text(LastUse(m.LastUsedAt, now)))
            .Add("Swaps", ColumnKind.Number, 65, m => Plain(m.Swaps))
            .Add("Swap-in GB/s", ColumnKind.Number, 40, m => new Text(GigabytesPerSecond(m.MedianSwapInBytesPerSecond)))
            .Add("GPU s", ColumnKind.Number, 55, m => new Text(m.Usage is { } usage ? Durations.Seconds(usage.GpuSeconds) : "-"))
            .Add("Steps", ColumnKind.Number, 50, m => new Text(m.Usage?.Steps.ToString(Invariant) ?? "-"))
            .Add("Moved", ColumnKind.Number, 20, m => new Text(m.Usage is { } usage ? ByteSize.Format(usage.BytesMoved) : "-"))
            .Add("Queue p50 / p99", ColumnKind.Number, 35, m => new Text(Durations.Percentiles(m.Usage?.QueueDelayP50Ms, m.Usage?.QueueDelayP99Ms)))
            .Write(console, models);

    private static string Pool(PoolStatus pool) =>
        $"{ByteSize.Format(pool.UsedBytes)} used, {ByteSize.Format(pool.FreeBytes)} free, {ByteSize.Format(pool.TotalBytes)} total";

    private static string Spilled(BufferSpills spills) =>
        $"{spills.SpilledBuffers.ToString(Invariant)} now ({ByteSize.Format(spills.SpilledBytes)}); {spills.Spills.ToString(Invariant)} spills ({ByteSize.Format(spills.SpillBytes)}), {spills.Restores.ToString(Invariant)} restores ({ByteSize.Format(spills.RestoreBytes)}) so far";

    private static void Row(Grid grid, string label, string value) => grid.AddRow(new Text(label, Label), new Text(value));

    private static Text Plain<T>(T value)
        where T : IFormattable => new(value.ToString(null, Invariant));
}
