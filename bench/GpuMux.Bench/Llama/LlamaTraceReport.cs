using System.Globalization;
using GpuMux.Bench.Plotting;
using GpuMux.Bench.Scheduling;
using GpuMux.Engine.Scheduling;

namespace GpuMux.Bench.Llama;

/// <summary>The tables and summary lines of the Llama trace for the terminal, and its raw results file with the chart beside it.</summary>
internal static class LlamaTraceReport
{
    public const string Command = "trace-llama";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteTables(TextWriter writer, LlamaTraceRun run)
    {
        WritePolicies(writer, run);
        writer.WriteLine();
        foreach (var line in SummaryLines(run))
        {
            writer.WriteLine(line);
        }
    }

    /// <summary>Writes <c>trace-llama-&lt;utc time&gt;-&lt;backend&gt;.md</c> and its chart (<c>.png</c>) into <paramref name="directory"/>; returns the markdown file's path.</summary>
    public static string WriteFile(LlamaTraceRun run, string directory)
    {
        var chart = ResultsFile.PathStem(Command, run.Environment.StartedUtc, run.BackendKind) + ".png";
        using var file = ResultsFile.Create(directory, Command, run.Environment.StartedUtc, run.BackendKind, "Many-model trace on Llama-format models: the scheduling policies against request rate");
        file.Section(null, writer => WriteHeader(writer, run));
        file.Section("Summary", writer =>
        {
            foreach (var line in SummaryLines(run))
            {
                writer.WriteLine(line);
            }
        });
        file.Paragraph("Chart", $"![share of requests meeting both objectives against request rate, per policy]({chart})");
        file.Section("Per policy and rate (times in ms, from each request's arrival, as its client saw them)", writer => WritePolicies(writer, run));
        AttainmentChart(run).WritePng(Path.Combine(directory, chart));
        return file.Path;
    }

    public static IEnumerable<string> SummaryLines(LlamaTraceRun run)
    {
        var p = run.Parameters;
        var setup = run.Setup;
        yield return string.Create(Invariant,
            $"weights {p.Models} x {p.ModelBytes / 1e6:F1} MB; the pool's room for weights holds {setup.ModelsFitting} of {p.Models} models at once ({Mib(setup.WeightsRoomBytes)} MiB of a {Mib(setup.DevicePoolBytes)} MiB pool)");
        foreach (var target in LlamaTraceRun.Targets)
        {
            foreach (var policy in TraceRun.Policies)
            {
                yield return $"sustainable rate ({Share(target)} of requests within TTFT {Ms(p.TtftSloMilliseconds)} ms and TPOT {Ms(p.TpotSloMilliseconds)} ms), {Name(policy)}: {RateText(run, run.SustainableRate(policy, target))}";
            }
        }
        yield return run.Check.Wrong == 0
            ? $"tokens: all {run.Check.Checked} completed requests' tokens matched {(run.Check.UsesReference ? "the CPU reference's greedy decoding" : "the same request's tokens in the first run that completed it")}"
            : $"FAILED: {run.Check.Wrong} of {run.Check.Checked} completed requests' tokens did not match {(run.Check.UsesReference ? "the CPU reference" : "another run's")}";
        foreach (var refused in run.Runs.Where(r => r.RefusedModels > 0).GroupBy(r => r.Policy))
        {
            yield return $"refused under {Name(refused.Key)}: {refused.Max(r => r.RefusedModels)} models; first: {refused.First().Refusals.First(r => r is not null)}";
        }
        yield return $"wake: {WakeLine(run)}";
        yield return run.IsModelled
            ? "basis: modelled device times (Sim backend: copies at its modelled bandwidth, kernels at bytes through device memory) but every kernel computed on the host's CPU, which, with the daemon and the runners, dominates the times"
            : "basis: measured on the GPU";
    }

    private static string WakeLine(LlamaTraceRun run) => (run.IsModelled, run.Wake) switch
    {
        (true, _) => "GPU only: the time to wake an 8B model (registered, not resident) to its first token, beside the PCIe floor, is measured on a GPU; the Sim would only report its own model of the copy",
        (false, { } wake) => string.Create(Invariant,
            $"an {LlamaWake.Shape} model ({wake.Bytes / 1e9:F2} GB), registered and not resident, to its first token: {wake.WakeMilliseconds:F0} ms; PCIe floor {wake.FloorMilliseconds:F0} ms (its bytes at {wake.PinnedGigabytesPerSecond:F2} GB/s, the pinned host-to-device rate measured just before); {wake.WakeMilliseconds / wake.FloorMilliseconds:F2}x the floor"),
        (false, null) => "not measured (--wake off)",
    };

    private static void WriteHeader(TextWriter writer, LlamaTraceRun run)
    {
        var p = run.Parameters;
        var config = p.Config;
        var setup = run.Setup;
        var fields = run.Environment.Fields().Concat(DeviceFields.Of(run.BackendDescription, run.CudaUnavailableReason, run.Device)).ToList();
        fields.AddRange(
        [
            ["parameters", p.CommandLine],
            ["models", string.Create(Invariant, $"{p.Models} generated Llama-format checkpoints of shape {p.Shape} (hidden {config.HiddenSize}, {config.NumHiddenLayers} layers, {config.NumAttentionHeads} heads over {config.NumKeyValueHeads} key/value heads, intermediate {config.IntermediateSize}, vocabulary {config.VocabSize}, {config.DType}), model k of seed k, {p.ModelBytes} bytes each; each opened by a LlamaRunner (one layer group per layer) on a client connection of its own, in popularity order")],
            ["popularity", string.Create(Invariant, $"Zipf by rank, s = {p.ZipfExponent}: the top model gets {Share(run.Popularity.Shares[0])} of requests, the top 3 {Share(run.Popularity.Shares.Take(3).Sum())}")],
            ["arrivals", string.Create(Invariant, $"Poisson at each rate for {p.DurationSeconds} s, seed {p.Seed}; every rate draws the same sequence, so request k is the same at every rate")],
            ["prompts", string.Create(Invariant, $"{p.MinPromptTokens} to {p.MaxPromptTokens} tokens (uniform), ids uniform over the vocabulary")],
            ["outputs", string.Create(Invariant, $"{p.MinOutputTokens} to {p.MaxOutputTokens} tokens (uniform), greedy, no stop token")],
            ["runners", string.Create(Invariant, $"continuous batching: every forward pass a token of each decoding request and prompt chunks of the rest, at most {p.MaxBatchRequests} requests a pass; each request's KV cache a buffer of its own")],
            ["daemon", string.Create(Invariant, $"gpumuxd in this process, a fresh one per policy and rate; device pool {Mib(setup.DevicePoolBytes)} MiB = {p.Models} runners' buffers of {Mib(setup.RunnerBytes)} MiB (measured) + {p.Models} x {p.MaxBatchRequests} KV caches of {Mib(setup.CacheBytes)} MiB + {Mib(setup.WeightsRoomBytes)} MiB for weights ({p.WeightsRoom} of them all); pinned pool all the models")],
            ["warm start", "before the window, each model that fits generates one token, in popularity order: the models that fit are resident, as in a running service"],
            ["policies", "step: models switch between any two steps; request: a model stays resident from a request's first step to the step that ends it; dedicated: models made resident at registration, those that do not fit refused (their requests count as missed)"],
            ["TTFT", "a request's arrival (its scheduled time, so lateness in starting it counts) to its first token delivered to the runner's caller"],
            ["TPOT", "the mean gap between a completed request's tokens after the first"],
            ["meeting the SLOs", string.Create(Invariant, $"completed, TTFT <= {Ms(p.TtftSloMilliseconds)} ms and TPOT <= {Ms(p.TpotSloMilliseconds)} ms; refused, failed and unfinished requests miss")],
            ["cut-off", string.Create(Invariant, $"the arrival window plus {p.DrainSeconds} s (TTFT objective + {p.MaxOutputTokens} tokens x the TPOT objective); a request not done by then is unfinished")],
            ["goodput", "requests meeting the SLOs per second of the arrival window"],
            ["models served", $"models with requests of which at least {Share(LlamaPolicyRun.ModelTarget)} met the SLOs"],
            ["sustainable", $"the highest swept rate at which at least {string.Join(" (or ", LlamaTraceRun.Targets.Select(Share))}) of the requests met the SLOs"],
            ["swaps", "swap-ins during the window and the drain, from the engine's model figures (the warm start's left out)"],
            ["percentiles", "nearest rank, over requests that got a first token (TTFT) or completed (TPOT)"],
            ["verification", run.Check.UsesReference ? "every completed request's tokens against the CPU reference's greedy decoding (LlamaReference.GreedyDecode)" : "every completed request's tokens against the same request's in the first run that completed it (the shape is too large for the CPU reference)"],
        ]);
        TextTable.Write(writer, fields, rightAligned: []);
    }

    private static void WritePolicies(TextWriter writer, LlamaTraceRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "policy", "req/s", "requests", "completed", "meet SLOs", "goodput/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "models served", "swaps", "failures", "seconds" },
        };
        foreach (var policy in TraceRun.Policies)
        {
            foreach (var measured in run.Of(policy))
            {
                rows.Add(
                [
                    Name(policy),
                    measured.Rate.ToString("0.##", Invariant),
                    Count(measured.Requests.Count),
                    Count(measured.CompletedRequests),
                    measured.Attainment.ToString("F3", Invariant),
                    measured.Goodput.ToString("F2", Invariant),
                    measured.TimesToFirstToken is { } first ? Ms(first.Median) : "-",
                    measured.TimesToFirstToken is { } firstTail ? Ms(firstTail.P99) : "-",
                    measured.TimesPerOutputToken is { } gap ? Ms(gap.Median) : "-",
                    measured.TimesPerOutputToken is { } gapTail ? Ms(gapTail.P99) : "-",
                    $"{Count(measured.ModelsServed)}/{Count(measured.ModelsWithRequests)}",
                    measured.Swaps.ToString(Invariant),
                    measured.Failures.Count == 0 ? "-" : string.Join(' ', measured.Failures.Select(f => $"{f.Key.Replace(' ', '-')}:{f.Value}")),
                    measured.ElapsedSeconds.ToString("F1", Invariant),
                ]);
            }
        }
        TextTable.Write(writer, rows, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
    }

    private static LineChart AttainmentChart(LlamaTraceRun run) => new(
        string.Create(Invariant, $"Requests within TTFT {Ms(run.Parameters.TtftSloMilliseconds)} ms and TPOT {Ms(run.Parameters.TpotSloMilliseconds)} ms, {run.Parameters.Models} {run.Parameters.Shape} models ({(run.IsModelled ? "Sim" : "GPU")})"),
        "requests per second",
        "share of requests meeting both SLOs",
        [.. TraceRun.Policies.Select(policy => new ChartSeries(Name(policy), [.. run.Of(policy).Select(r => (r.Rate, r.Attainment))]))])
    {
        YMin = 0,
        YMax = 1,
        ReferenceLines = [.. LlamaTraceRun.Targets.Select(t => (t, $"target {Share(t)}"))],
    };

    private static string RateText(LlamaTraceRun run, double? rate) =>
        rate is { } r
            ? string.Create(Invariant, $"{r:0.##} requests/s")
            : string.Create(Invariant, $"< {run.Parameters.Rates[0]:0.##} requests/s (none of the swept rates)");

    private static string Name(SchedulingPolicy policy) => policy.ToString().ToLowerInvariant();

    private static string Share(double share) => share.ToString("P0", Invariant).Replace(" ", string.Empty, StringComparison.Ordinal);

    private static string Ms(double milliseconds) => milliseconds.ToString("0.#", Invariant);

    private static string Mib(ulong bytes) => (bytes >> 20).ToString(Invariant);

    private static string Count(int value) => value.ToString(Invariant);
}
