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
            console.Write(ModelTable(report.Models, now));
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
        Row(grid, "Models", report.ModelsTotal.ToString(Invariant));
        return grid;
    }

    private static Table ModelTable(IReadOnlyList<ModelStatus> models, DateTimeOffset now)
    {
        var table = new Table()
            .AddColumn(new TableColumn("Session").RightAligned().NoWrap())
            .AddColumn("Name")
            .AddColumn(new TableColumn("UID").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Size").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Tensors").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Groups").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Tier").NoWrap())
            .AddColumn(new TableColumn("Resident").NoWrap())
            .AddColumn(new TableColumn("Last use").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Swaps").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Swap-in GB/s").RightAligned().NoWrap())
            .AddColumn(new TableColumn("GPU s").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Steps").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Moved").RightAligned().NoWrap())
            .AddColumn(new TableColumn("Queue p50 / p99").RightAligned().NoWrap());
        foreach (var model in models)
        {
            var usage = model.Usage;
            table.AddRow(
                Plain(model.Session),
                new Text(model.Name),
                Plain(model.OwnerUid),
                new Text(ByteSize.Format(model.Bytes)),
                Plain(model.Tensors),
                Plain(model.Groups),
                new Text(model.Tier),
                new Text(model.Resident ? "yes" : "no"),
                new Text(LastUse(model.LastUsedAt, now)),
                Plain(model.Swaps),
                new Text(GigabytesPerSecond(model.MedianSwapInBytesPerSecond)),
                new Text(usage is null ? "-" : Durations.Seconds(usage.GpuSeconds)),
                new Text(usage?.Steps.ToString(Invariant) ?? "-"),
                new Text(usage is null ? "-" : ByteSize.Format(usage.BytesMoved)),
                new Text(Durations.Percentiles(usage?.QueueDelayP50Ms, usage?.QueueDelayP99Ms)));
        }

        return table;
    }

    private static string Pool(PoolStatus pool) =>
        $"{ByteSize.Format(pool.UsedBytes)} used, {ByteSize.Format(pool.FreeBytes)} free, {ByteSize.Format(pool.TotalBytes)} total";

    private static void Row(Grid grid, string label, string value) => grid.AddRow(new Text(label, Label), new Text(value));

    private static Text Plain<T>(T value)
        where T : IFormattable => new(value.ToString(null, Invariant));
}
