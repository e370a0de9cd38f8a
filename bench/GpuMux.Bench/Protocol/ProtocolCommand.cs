using System.Globalization;
using System.Text;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuMux.Bench.Protocol;

/// <summary>
/// <c>GpuMux.Bench protocol</c>: the frame codecs, and an empty step's round trip through the
/// daemon against a raw Unix-socket ping-pong, in one run; writes the raw BenchmarkDotNet tables
/// with the machine and the commit, and the round trip as a ratio to the ping-pong.
/// </summary>
internal static class ProtocolCommand
{
    public const string Usage = """
        usage: GpuMux.Bench protocol [--out DIR] [--iterations N]

          --out         also write a raw results file, protocol-<utc time>-<backend>.md, into DIR
          --iterations  measured iterations per benchmark (default 15)

        The daemon runs on the Sim backend unless GPUMUX_BENCH_BACKEND=cuda (or auto).
        Run it from a Release build: dotnet run -c Release --project bench/GpuMux.Bench -- protocol
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        if (InProcessBenchmarks.Options(args) is not var (outputDirectory, iterations))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var environment = RunEnvironment.Capture();
        var summaries = BenchmarkRunner.Run([typeof(FrameCodecBenchmarks), typeof(RoundTripBenchmarks)], InProcessBenchmarks.Config(iterations));
        var report = Report(environment, summaries);
        Console.WriteLine(report);
        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
            var name = string.Create(CultureInfo.InvariantCulture, $"protocol-{environment.StartedUtc:yyyyMMdd-HHmmss}-{RoundTripBenchmarks.Backend}.md");
            var path = Path.Combine(outputDirectory, name);
            File.WriteAllText(path, report, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Console.WriteLine($"raw results: {path}");
        }

        return summaries.All(summary => !summary.HasCriticalValidationErrors && summary.Reports.All(r => r.Success)) ? 0 : 1;
    }

    private static string Report(RunEnvironment environment, IEnumerable<Summary> summaries)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("# Protocol benchmarks");
        text.WriteLine();
        text.WriteLine("```");
        var fields = environment.Fields().ToList();
        fields.Add(["daemon backend", RoundTripBenchmarks.Backend]);
        TextTable.Write(text, fields, rightAligned: []);
        text.WriteLine("```");
        var logger = new AccumulationLogger();
        foreach (var summary in summaries)
        {
            MarkdownExporter.GitHub.ExportToLog(summary, logger);
            logger.WriteLine();
            if (RoundTripRatio(summary) is { } ratio)
            {
                logger.WriteLine(ratio);
                logger.WriteLine();
            }
        }

        text.WriteLine();
        text.Write(logger.GetLog());
        return text.ToString();
    }

    private static string? RoundTripRatio(Summary summary)
    {
        var step = Statistics(summary, nameof(RoundTripBenchmarks.EmptyStepRoundTrip));
        var raw = Statistics(summary, nameof(RoundTripBenchmarks.RawSocketPingPong));
        if (step is null || raw is null)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"empty step round trip / raw Unix-socket ping-pong: {step.Median / raw.Median:F2}x by median ({step.Median / 1000:F1} us / {raw.Median / 1000:F1} us), {step.Mean / raw.Mean:F2}x by mean");
    }

    private static BenchmarkDotNet.Mathematics.Statistics? Statistics(Summary summary, string method) =>
        summary.Reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)?.ResultStatistics;
}
