using GpuMux.Bench.Llama;
using GpuMux.Bench.Scheduling;

namespace GpuMux.Bench.Tests;

/// <summary>
/// trace-llama at a tiny size on the Sim: every policy's replay runs through the real daemon and
/// runners, every completed request's tokens equal the CPU reference's greedy decoding, and the
/// report has its sections and its chart. The objectives are far above what the run takes, so
/// that a slow machine completes every request; nothing here asserts a time.
/// </summary>
public sealed class LlamaTraceTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gmx-trace-llama-test-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task A_tiny_trace_completes_under_every_policy_with_the_reference_tokens_and_a_full_report()
    {
        var options = LlamaTraceOptions.Parse(
        [
            "--backend", "sim", "--shape", "tiny", "--models", "3", "--rates", "3", "--duration-s", "1.5",
            "--prompt-tokens", "2-12", "--output-tokens", "2-6", "--ttft-slo-ms", "20000", "--tpot-slo-ms", "2000",
            "--models-dir", Path.Combine(_directory.FullName, "models"),
        ]);

        var run = await LlamaTraceCommand.MeasureAsync(options);

        Assert.Equal(TraceRun.Policies, run.Runs.Select(r => r.Policy));
        Assert.All(run.Runs, r => Assert.NotEmpty(r.Requests));
        Assert.True(run.Check.UsesReference);
        Assert.Equal(0, run.Check.Wrong);
        Assert.Equal(run.Runs.Sum(r => r.CompletedRequests), run.Check.Checked);
        // Step and request serve every model; only dedicated may refuse those that do not fit.
        Assert.All(run.Runs.Where(r => r.Policy != Engine.Scheduling.SchedulingPolicy.Dedicated), r => Assert.Equal(r.Requests.Count, r.CompletedRequests));
        Assert.All(run.Runs.Where(r => r.Policy == Engine.Scheduling.SchedulingPolicy.Dedicated), r => Assert.Equal(r.Requests.Count(o => o.Failure != "refused"), r.CompletedRequests));

        var file = LlamaTraceReport.WriteFile(run, Path.Combine(_directory.FullName, "results"));
        var text = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
        foreach (var section in new[] { "## Summary", "## Chart", "## Per policy and rate" })
        {
            Assert.Contains(section, text, StringComparison.Ordinal);
        }
        foreach (var line in new[] { "sustainable rate (90%", "sustainable rate (99%", "matched the CPU reference's greedy decoding", "GPU only", "TTFT p99", "goodput" })
        {
            Assert.Contains(line, text, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(Path.ChangeExtension(file, ".png")));
    }
}
