using System.Globalization;
using Spectre.Console;

namespace GpuMux.Cli.Demo;

/// <summary>
/// The demo's sessions as a table, the live view's and the closing summary's, narrow enough for an
/// 80-column terminal, with a caption that spells out the short headers.
/// </summary>
internal static class DemoTable
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Style Bad = new(Color.Red, decoration: Decoration.Bold);
    private static readonly Style Dim = new(decoration: Decoration.Dim);

    /// <param name="simulated">GPU times on the Sim backend are modelled, and the caption says so.</param>
    public static Table Build(IReadOnlyList<SessionSnapshot> sessions, bool simulated, string? title = null)
    {
        var table = new Table()
            .AddColumn("Session")
            .AddColumn(Number("Steps"))
            .AddColumn(Number("/s"))
            .AddColumn(Number("RT mean"))
            .AddColumn(Number("RT p99"))
            .AddColumn(Number("GPU"))
            .AddColumn(Number("OK"))
            .AddColumn(Number("Wrong"))
            .AddColumn(Number("Err"))
            .Caption(
                "Steps done, and per second. Times in ms: RT is a step's round trip through gpumuxd, GPU its mean time on the "
                + (simulated ? "device (modelled: Sim backend). " : "device. ")
                + "OK: verified bit-exact; Wrong: mismatched; Err: failed.",
                Dim);
        if (title is not null)
        {
            table.Title(title);
        }

        for (var i = 0; i < sessions.Count; i++)
        {
            var s = sessions[i];
            table.AddRow(
                new Text($"{i + 1} {s.Workload}"),
                new Text(s.Done.ToString(Invariant)),
                new Text(s.StepsPerSecond.ToString("0", Invariant)),
                new Text(Milliseconds(s.MeanRoundTrip)),
                new Text(Milliseconds(s.P99RoundTrip)),
                new Text(Milliseconds(s.MeanGpuTime)),
                new Text(s.Verified.ToString(Invariant)),
                Count(s.Mismatches),
                Count(s.Errors));
        }

        return table;
    }

    /// <summary>One line per session, for output that is not a terminal.</summary>
    public static string Line(int index, SessionSnapshot s) =>
        $"{index + 1} {s.Workload}: {s.Done}/{s.Total} steps, {s.StepsPerSecond.ToString("0", Invariant)} steps/s, "
        + $"round trip {Milliseconds(s.MeanRoundTrip)} ms mean, {Milliseconds(s.P99RoundTrip)} ms p99, GPU {Milliseconds(s.MeanGpuTime)} ms mean, "
        + $"{s.Verified} verified, {s.Mismatches} mismatches, {s.Errors} errors";

    private static string Milliseconds(TimeSpan time) => time.TotalMilliseconds.ToString("0.00", Invariant);

    private static TableColumn Number(string header) => new TableColumn(header).RightAligned().NoWrap();

    private static Text Count(int count) => new(count.ToString(Invariant), count == 0 ? Style.Plain : Bad);
}
