using System.Globalization;
using GpuMux.Gpu;
using GpuMux.Robustness;
using GpuMux.Robustness.Daemon;

namespace GpuMux.Bench.Robustness;

/// <summary>The summary for the terminal, and the raw results file with every count, figure, sample and example.</summary>
internal static class RobustnessReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteSummary(TextWriter writer, IReadOnlyList<ScenarioResult> results)
    {
        var rows = new List<string[]> { new[] { "scenario", "seconds", "failures (counts that must be 0)" } };
        rows.AddRange(results.Select(result => new[]
        {
            result.Name,
            result.Elapsed.TotalSeconds.ToString("F1", Invariant),
            result.Failures.Count == 0 ? "none" : string.Join("; ", result.Failures),
        }));
        TextTable.Write(writer, rows, rightAligned: [1]);
    }

    /// <summary>Writes <c>robustness-&lt;utc time&gt;-sim.md</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteFile(RunEnvironment environment, RobustnessOptions options, string daemonDll, IReadOnlyList<ScenarioResult> results, string directory)
    {
        using var file = ResultsFile.Create(directory, "robustness", environment.StartedUtc, GpuBackendKind.Sim,
            "Robustness: gpumuxd under fuzzed frames and descriptors, killed clients, many clients, mutated models and signals");
        var header = environment.Fields().ToList();
        header.AddRange(
        [
            ["backend", "Sim (gpumuxd as a process of its own, started with dotnet, on a socket in a temporary directory)"],
            ["daemon", daemonDll],
            ["command", $"GpuMux.Bench robustness {options.CommandLine}".TrimEnd()],
            ["hang bound", $"{options.HangBound.TotalSeconds:0} s: a request unanswered this long is a hang"],
            ["failures", "the counts marked 'must be 0'; the others describe the run"],
        ]);
        file.Section(null, writer => TextTable.Write(writer, header, rightAligned: []));
        file.Section("summary", writer => WriteSummary(writer, results));
        foreach (var result in results)
        {
            file.Paragraph(result.Name, $"{result.Description}. Parameters: {result.Parameters}.");
            file.Section(null, writer => WriteScenario(writer, result));
            if (result.Notes.Count > 0)
            {
                file.Section($"{result.Name}: what went wrong, first examples", writer => WriteNotes(writer, result));
            }
        }

        return file.Path;
    }

    private static void WriteScenario(TextWriter writer, ScenarioResult result)
    {
        var counts = new List<string[]> { new[] { "count", "value", "" } };
        counts.AddRange(result.Counts.Select(counter => new[] { counter.Name, counter.Value.ToString(Invariant), counter.IsFailure ? "must be 0" : "" }));
        TextTable.Write(writer, counts, rightAligned: [1]);
        if (result.Figures.Count > 0)
        {
            writer.WriteLine();
            TextTable.Write(writer, [new[] { "figure", "value" }, .. result.Figures.Select(figure => new[] { figure.Name, figure.Value })], rightAligned: []);
        }

        writer.WriteLine();
        TextTable.Write(writer,
        [
            new[] { "daemon", "RSS MiB", "descriptors", "threads", "mappings" },
            Resources("before", result.Before),
            Resources("after", result.After),
        ], rightAligned: [1, 2, 3, 4]);
    }

    private static string[] Resources(string when, ResourceSample? sample) => sample is { } s
        ? [when, (s.RssBytes / (double)(1 << 20)).ToString("F1", Invariant), s.Descriptors.ToString(Invariant), s.Threads.ToString(Invariant), s.Mappings.ToString(Invariant)]
        : [when, "-", "-", "-", "-"];

    private static void WriteNotes(TextWriter writer, ScenarioResult result)
    {
        foreach (var (kind, seen, examples) in result.Notes)
        {
            writer.WriteLine($"{kind} ({seen}):");
            foreach (var example in examples)
            {
                writer.WriteLine($"  - {example.ReplaceLineEndings("\n    ")}");
            }
        }
    }
}
