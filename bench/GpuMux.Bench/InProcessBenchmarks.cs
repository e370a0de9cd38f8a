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
    public static IConfig Config(int iterations) => ManualConfig.CreateMinimumViable()
        .AddJob(Job.Default
            .WithToolchain(InProcessNoEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(iterations))
        .AddExporter(MarkdownExporter.GitHub)
        .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "gpumux-benchmarks"));
}
