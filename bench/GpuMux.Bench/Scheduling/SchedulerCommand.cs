using System.Globalization;
using System.Text;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// <c>GpuMux.Bench scheduler</c>: the time and allocations of one scheduling decision against
/// steps held and tenants; writes the raw BenchmarkDotNet table with the machine and the commit,
/// and the goals beside what was measured.
/// </summary>
internal static class SchedulerCommand
{
    public const string Usage = """
        usage: GpuMux.Bench scheduler [--out DIR] [--iterations N]

          --out         also write a raw results file, scheduler-<utc time>.md, into DIR
          --iterations  measured iterations per case (default 15)

        No device is used. Run it from a Release build:
          dotnet run -c Release --project bench/GpuMux.Bench -- scheduler --out bench/results
        """;

    // The goals: at 1,000 held steps a decision takes at most 2 us and allocates nothing, and from
    // 10 to 10,000 held steps it grows no faster than the logarithm of the steps held.
    private const int GoalHeldSteps = 1_000;
    private const double GoalNs = 2_000;

    public static int Run(IReadOnlyList<string> args)
    {
        if (InProcessBenchmarks.Options(args) is not var (outputDirectory, iterations))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var environment = RunEnvironment.Capture();
        var summary = BenchmarkRunner.Run<SchedulerBenchmarks>(InProcessBenchmarks.Config(iterations));
        var report = Report(environment, summary);
        Console.WriteLine(report);
        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
            var path = Path.Combine(outputDirectory, string.Create(CultureInfo.InvariantCulture, $"scheduler-{environment.StartedUtc:yyyyMMdd-HHmmss}.md"));
            File.WriteAllText(path, report, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Console.WriteLine($"raw results: {path}");
        }

        return !summary.HasCriticalValidationErrors && summary.Reports.All(r => r.Success) ? 0 : 1;
    }

    private static string Report(RunEnvironment environment, Summary summary)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("# Scheduler benchmark");
        text.WriteLine();
        text.WriteLine("```");
        TextTable.Write(text, [.. environment.Fields()], rightAligned: []);
        text.WriteLine("```");
        text.WriteLine();
        var logger = new AccumulationLogger();
        MarkdownExporter.GitHub.ExportToLog(summary, logger);
        text.Write(logger.GetLog());
        text.WriteLine();
        text.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Goals: at {GoalHeldSteps:N0} held steps, at most {GoalNs / 1000:F0} us and 0 B a decision; from 10 to 10,000 held steps, growth at most log(10,000)/log(10) = 4x."));
        text.WriteLine();
        var rows = new List<string[]> { new[] { "tenants", $"us at {GoalHeldSteps:N0}", "B at 1,000", "10,000 / 10 held", "goal met" } };
        foreach (var tenants in summary.Reports.Select(r => Parameter(r, nameof(SchedulerBenchmarks.Tenants))).Distinct().Order())
        {
            var atGoal = Find(summary, tenants, GoalHeldSteps);
            var fewest = Find(summary, tenants, 10);
            var most = Find(summary, tenants, 10_000);
            if (atGoal?.ResultStatistics is not { } goal || fewest?.ResultStatistics is not { } low || most?.ResultStatistics is not { } high)
            {
                continue;
            }
            var bytes = atGoal.GcStats.GetBytesAllocatedPerOperation(atGoal.BenchmarkCase) ?? -1;
            var growth = high.Mean / low.Mean;
            var met = goal.Mean <= GoalNs && bytes == 0 && growth <= 4;
            rows.Add(
            [
                tenants.ToString(CultureInfo.InvariantCulture),
                (goal.Mean / 1000).ToString("F3", CultureInfo.InvariantCulture),
                bytes.ToString(CultureInfo.InvariantCulture),
                growth.ToString("F2", CultureInfo.InvariantCulture) + "x",
                met ? "yes" : "no",
            ]);
        }
        text.WriteLine("```");
        TextTable.Write(text, rows, rightAligned: [1, 2, 3]);
        text.WriteLine("```");
        return text.ToString();
    }

    private static int Parameter(BenchmarkReport report, string name) => (int)report.BenchmarkCase.Parameters[name];

    private static BenchmarkReport? Find(Summary summary, int tenants, int heldSteps) =>
        summary.Reports.FirstOrDefault(r => Parameter(r, nameof(SchedulerBenchmarks.Tenants)) == tenants && Parameter(r, nameof(SchedulerBenchmarks.HeldSteps)) == heldSteps);
}
