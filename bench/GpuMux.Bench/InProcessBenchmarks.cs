using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

namespace GpuMux.Bench;

/// <summary>
/// The BenchmarkDotNet configuration the bench's micro-benchmarks share: in this process, so that
/// what they measure may be internal to the product and no second build is needed on a machine
/// that has only the .NET runtime.
/// </summary>
internal static class InProcessBenchmarks
{
    /// <summary>
    /// Their options, <c>--out DIR</c> and <c>--iterations N</c> (15 by default); null for
    /// anything else, which the caller answers with its usage.
    /// </summary>
    public static (string? OutputDirectory, int Iterations)? Options(IReadOnlyList<string> args)
    {
        string? outputDirectory = null;
        var iterations = 15;
        for (var i = 0; i < args.Count; i += 2)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i], value)
            {
                case ("--out", { } directory):
                    outputDirectory = directory;
                    break;
                case ("--iterations", { } count) when int.TryParse(count, CultureInfo.InvariantCulture, out iterations) && iterations > 0:
                    break;
                default:
                    return null;
            }
        }
        return (outputDirectory, iterations);
    }

    public static IConfig Config(int iterations) => ManualConfig.CreateMinimumViable()
        .AddJob(Job.Default
            .WithToolchain(InProcessNoEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(iterations))
        .AddExporter(MarkdownExporter.GitHub)
        .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "gpumux-benchmarks"));
}
