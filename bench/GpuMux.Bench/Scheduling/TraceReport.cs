using System.Globalization;
using System.Text;
using GpuMux.Bench.Models;
using GpuMux.Bench.Plotting;
using GpuMux.Engine.Scheduling;

namespace GpuMux.Bench.Scheduling;

/// <summary>The tables and summary lines for the terminal, and the raw results file with its chart beside it.</summary>
internal static class TraceReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteTables(TextWriter writer, TraceRun run)
    {
        WritePolicies(writer, run);
        writer.WriteLine();
        foreach (var line in SummaryLines(run))
        {
            writer.WriteLine(line);
        }
    }

    /// <summary>
    /// Writes <c>trace-&lt;utc time&gt;-&lt;backend&gt;.md</c> and the chart, the same name with
    /// <c>.png</c>, into <paramref name="directory"/>; returns the markdown file's path.
    /// </summary>
    public static string WriteFile(TraceRun run, string directory)
    {
        var chart = ResultsFile.PathStem("trace", run.Environment.StartedUtc, run.BackendKind) + ".png";
        using var file = ResultsFile.Create(directory, "trace", run.Environment.StartedUtc, run.BackendKind, "Many-model trace: the scheduling policies against request rate");
        file.Section(null, writer => WriteHeader(writer, run));
        file.Section("Summary", writer =>
        {
            foreach (var line in SummaryLines(run))
            {
                writer.WriteLine(line);
            }
        });
        file.Paragraph("Chart", $"![share of steps on time against request rate, per policy]({chart})");
        file.Section("Per policy and rate (times in ms, on the host's monotonic clock, as the client saw them)", writer => WritePolicies(writer, run));
        file.Section("Models by popularity, and their requests at each rate", writer => WritePopularity(writer, run));
        file.Section("Per model, by rank: + at least 99% of its steps on time, - fewer, . no requests, x refused", writer => WriteModelMatrix(writer, run));
        file.Section("Refusals (the first of each policy and rate)", writer => WriteRefusals(writer, run));
        AttainmentChart(run).WritePng(Path.Combine(directory, chart));
        return file.Path;
    }

    public static IEnumerable<string> SummaryLines(TraceRun run)
    {
        var p = run.Parameters;
        yield return string.Create(Invariant,
            $"compute alone keeps at most {p.ModelsAtPace:0.#} models decoding at the objective's pace (a {p.StepComputeMicroseconds} us step each per {Ms(p.SloMilliseconds)} ms); total weights {(long)p.Models * p.ModelMib} MiB = {(double)p.Models * p.ModelMib / p.PoolMib:F2}x the {p.PoolMib} MiB device pool");
        foreach (var policy in TraceRun.Policies)
        {
            yield return $"sustainable rate ({Share(TraceRun.Target)} of steps on time), {Name(policy)}: {RateText(run, run.SustainableRate(policy))}";
        }
        yield return StepOverRequest(run, run.SustainableRate, "on time");
        foreach (var policy in TraceRun.Policies)
        {
            yield return $"sustainable rate ({Share(TraceRun.Target)} of steps within {Ms(p.SloMilliseconds)} ms of the step before), {Name(policy)}: {RateText(run, run.SustainableRateByGap(policy))}";
        }
        yield return StepOverRequest(run, run.SustainableRateByGap, "within the gap");
        yield return ModelsServed(run);
        yield return run.AllVerified
            ? "results: every completed step's gemv outputs matched the host reference, bit for bit"
            : $"FAILED: {run.Runs.Sum(r => r.WrongResults)} completed steps' gemv outputs did not match the host reference";
        if (run.AnyFailures)
        {
            yield return "FAILED: the engine failed some steps (see the failures column)";
        }
        yield return run.IsModelled
            ? string.Create(Invariant, $"basis: modelled (Sim backend, pinned copies at {p.SimCopyGigabytesPerSecond:0.##} GB/s, or the host's memcpy if slower; kernels their modelled time, one at a time); the host's 2 cores also run the engine and the simulator's threads")
            : "basis: measured on the GPU, at its own copy bandwidth";
    }

    private static string StepOverRequest(TraceRun run, Func<SchedulingPolicy, double?> sustainable, string reading)
    {
        var step = sustainable(SchedulingPolicy.Step);
        var request = sustainable(SchedulingPolicy.Request);
        var goal = string.Create(Invariant, $"goal >= {TraceRun.StepOverRequestGoal:0.#}x");
        var what = $"step / request sustainable rate, steps {reading}";
        return (step, request) switch
        {
            ({ } s, { } r) => string.Create(Invariant, $"{what}: {s / r:F2}x ({goal}: {(s / r >= TraceRun.StepOverRequestGoal ? "met" : "NOT met")})"),
            ({ } s, null) => string.Create(Invariant, $"{what}: more than {s / run.LowestRate:F2}x (request sustains none of the swept rates; {goal}: {(s / run.LowestRate >= TraceRun.StepOverRequestGoal ? "met" : "undecided: sweep lower rates")})"),
            (null, _) => $"{what}: undefined, step sustains none of the swept rates ({goal}: NOT met)",
        };
    }

    private static string ModelsServed(TraceRun run)
    {
        var rate = run.SustainableRate(SchedulingPolicy.Step);
        var at = rate ?? run.LowestRate;
        var step = run.At(SchedulingPolicy.Step, at);
        var dedicated = run.At(SchedulingPolicy.Dedicated, at);
        var where = rate is null ? "the lowest rate (step sustains none)" : "step's sustainable rate";
        var met = step.ModelsServed >= TraceRun.ModelsServedGoal && rate is not null ? "met" : "NOT met";
        return string.Create(Invariant,
            $"models with {Share(PolicyRun.ModelTarget)} of their steps on time at {at:0.##} requests/s, {where}: step {step.ModelsServed} of {step.ModelsWithRequests} with requests, dedicated {dedicated.ModelsServed} ({run.Parameters.Models - dedicated.RefusedModels} of {run.Parameters.Models} models fit the pool; goal >= {TraceRun.ModelsServedGoal} under step: {met})");
    }

    private static void WriteHeader(TextWriter writer, TraceRun run)
    {
        var p = run.Parameters;
        var geometry = ModelGeometry.For(p.ModelMib);
        var fields = run.Environment.Fields().Concat(DeviceFields.Of(run.BackendDescription, run.CudaUnavailableReason, run.Device)).ToList();
        fields.AddRange(
        [
            ["parameters", p.CommandLine],
            ["models", string.Create(Invariant, $"{p.Models} safetensors in memfds, {geometry.Layers} f16 layers of {geometry.Rows} x {ModelGeometry.Cols} each ({geometry.Bytes} bytes), one layer group per layer; registered in popularity order, each in a session of its own, all under uid {TraceReplay.ServiceUid} (one service of many models, so its steps go in deadline order), staged in the pinned pool")],
            ["popularity", string.Create(Invariant, $"Zipf by rank, s = {p.ZipfExponent}: the top model gets {Share(run.Popularity.Shares[0])} of requests, the top 3 {Share(run.Popularity.Shares.Take(3).Sum())}")],
            ["arrivals", string.Create(Invariant, $"Poisson at each rate for {p.DurationSeconds} s, seed {p.Seed}; every rate draws the same sequence, so a faster rate is the same requests arriving sooner, and more of them")],
            ["requests", string.Create(Invariant, $"{p.MinSteps} to {p.MaxSteps} decode steps (uniform), one token each")],
            ["decoding", "each model batches continuously: each step a token of every request of the model under way, a request arriving joining at the next step submitted; a step carries the earliest due time among its requests' tokens as its deadline (never failing for it); one step is submitted at a time, unless a request arrives whose first token is due before the step waiting, when the next is submitted behind it at once (the engine then orders the waiting step by the later one's deadline); the step after which none is under way ends the request (Step.EndRequest)"],
            ["step", string.Create(Invariant, $"per layer group: gemv_f16 over row 0 of the group's weights (the launch waits for that group) and spin for {p.StepComputeMicroseconds} us / {geometry.Layers}, filling the device, whatever the batch; then the gemv outputs copied out")],
            ["engine", string.Create(Invariant, $"in-process GpuEngine, a fresh one per policy and rate; device pool {p.PoolMib} MiB ({p.Models} sessions' buffers take one 2 MiB page each), pinned pool all the models; default classes, every session in the default one")],
            ["warm start", "before the window, one step (a request of its own) of each of the most popular models until the pool's pages have all been mapped once: the models that fit are resident, as in a running service; on Sim, a page's first mapping costs the host allocating it, on the engine thread, which a GPU does not pay"],
            ["policies", "step: models switch between any two steps, the scheduler weighing a swap's cost; request: a model stays resident from a request's first step to its last; dedicated: models made resident at registration, those that do not fit refused (their steps count as missed)"],
            ["on time", string.Create(Invariant, $"a request's step i (from 0) delivered within (i + 1) x {Ms(p.SloMilliseconds)} ms of the request's arrival: the objective's pace, as a client streaming tokens sees it, an early token covering a later gap")],
            ["within the gap", string.Create(Invariant, $"a step delivered within {Ms(p.SloMilliseconds)} ms of the request's step before it (the first, of its arrival); p50 and p99 are of these gaps. Steps not delivered by the cut-off are misses in both readings")],
            ["cut-off", string.Create(Invariant, $"the arrival window plus {p.DrainSeconds} s ({p.MaxSteps} steps x {Ms(p.SloMilliseconds)} ms: the longest a request can take with every step on time)")],
            ["attainment", "steps on time (or within the gap) / all steps of the requests that arrived in the window"],
            ["sustainable", string.Create(Invariant, $"the highest swept rate with attainment >= {TraceRun.Target}")],
            ["batch", "requests' steps delivered per decode step run"],
            ["swaps", "swap-ins during the window and the drain, from GetModelsAsync (those at registration under Dedicated and of the warm start left out)"],
            ["percentiles", "nearest rank, over completed steps"],
            ["verification", "every completed step's first and last gemv outputs, bit for bit, against KernelReference.Gemv"],
            ["figures", run.IsModelled ? string.Create(Invariant, $"modelled (Sim backend, pinned host-to-device copies at {p.SimCopyGigabytesPerSecond:0.##} GB/s: a {p.ModelMib} MiB swap-in takes {((double)geometry.Bytes / (p.SimCopyGigabytesPerSecond * 1e9)) * 1e3:F1} ms)") : "measured"],
        ]);
        TextTable.Write(writer, fields, rightAligned: []);
    }

    private static void WritePolicies(TextWriter writer, TraceRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "policy", "req/s", "requests", "steps", "on time", "within gap", "gap p50", "gap p99", "TTFS p99", "batch", "completed", "unfinished", "refused", "swaps", "models served", "failures", "data", "seconds" },
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
                    Count(measured.TotalSteps),
                    measured.Attainment.ToString("F4", Invariant),
                    measured.GapAttainment.ToString("F4", Invariant),
                    measured.StepTimes is { } times ? Ms(times.Median) : "-",
                    measured.StepTimes is { } tail ? Ms(tail.P99) : "-",
                    measured.FirstStepTimes is { } first ? Ms(first.P99) : "-",
                    measured.MeanBatch.ToString("F2", Invariant),
                    Count(measured.CompletedRequests),
                    Count(measured.UnfinishedSteps),
                    Count(measured.RefusedSteps),
                    measured.Swaps.ToString(Invariant),
                    $"{Count(measured.ModelsServed)}/{Count(measured.ModelsWithRequests)}",
                    measured.Failures.Count == 0 ? "-" : string.Join(' ', measured.Failures.Select(f => $"{f.Key}:{f.Value}")),
                    measured.WrongResults == 0 ? "ok" : $"WRONG:{measured.WrongResults}",
                    measured.ElapsedSeconds.ToString("F1", Invariant),
                ]);
            }
        }
        TextTable.Write(writer, rows, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17]);
    }

    private static void WritePopularity(TextWriter writer, TraceRun run)
    {
        var rates = run.Parameters.Rates;
        var header = new List<string> { "rank", "share" };
        header.AddRange(rates.Select(r => r.ToString("0.##", Invariant) + "/s"));
        var rows = new List<string[]> { header.ToArray() };
        for (var model = 0; model < run.Parameters.Models; model++)
        {
            var row = new List<string> { Count(model), run.Popularity.Shares[model].ToString("F4", Invariant) };
            row.AddRange(rates.Select(rate => Count(run.At(SchedulingPolicy.Step, rate).PerModel[model].Requests)));
            rows.Add([.. row]);
        }
        TextTable.Write(writer, rows, rightAligned: [.. Enumerable.Range(0, header.Count)]);
    }

    private static void WriteModelMatrix(TextWriter writer, TraceRun run)
    {
        var rows = new List<string[]> { new[] { "policy", "req/s", "models 0..n-1", "served" } };
        foreach (var policy in TraceRun.Policies)
        {
            foreach (var measured in run.Of(policy))
            {
                var marks = new StringBuilder();
                foreach (var model in measured.PerModel)
                {
                    marks.Append(model.Refused ? 'x' : model.Steps == 0 ? '.' : model.IsServed ? '+' : '-');
                }
                rows.Add([Name(policy), measured.Rate.ToString("0.##", Invariant), marks.ToString(), Count(measured.ModelsServed)]);
            }
        }
        TextTable.Write(writer, rows, rightAligned: [1, 3]);
    }

    private static void WriteRefusals(TextWriter writer, TraceRun run)
    {
        var refused = run.Runs.Where(r => r.RefusedModels > 0).ToList();
        if (refused.Count == 0)
        {
            writer.WriteLine("none");
            return;
        }
        foreach (var measured in refused)
        {
            writer.WriteLine(string.Create(Invariant, $"{Name(measured.Policy)} at {measured.Rate:0.##}/s: {measured.RefusedModels} models refused; first: {measured.Refusals.First(r => r is not null)}"));
        }
    }

    private static LineChart AttainmentChart(TraceRun run) => new(
        string.Create(Invariant, $"Steps on time at {Ms(run.Parameters.SloMilliseconds)} ms each, {run.Parameters.Models} models, Zipf s={run.Parameters.ZipfExponent} ({(run.IsModelled ? "Sim" : "GPU")})"),
        "requests per second",
        "share of steps on time",
        [.. TraceRun.Policies.Select(policy => new ChartSeries(Name(policy), [.. run.Of(policy).Select(r => (r.Rate, r.Attainment))]))])
    {
        YMin = 0,
        YMax = 1,
        ReferenceLines = [(TraceRun.Target, "SLO target 99%")],
    };

    private static string RateText(TraceRun run, double? rate) =>
        rate is { } r
            ? string.Create(Invariant, $"{r:0.##} requests/s")
            : string.Create(Invariant, $"< {run.LowestRate:0.##} requests/s (none of the swept rates)");

    private static string Name(SchedulingPolicy policy) => policy.ToString().ToLowerInvariant();

    private static string Share(double share) => share.ToString("P0", Invariant).Replace(" ", string.Empty, StringComparison.Ordinal);

    private static string Ms(double milliseconds) => milliseconds.ToString("0.###", Invariant);

    private static string Count(int value) => value.ToString(Invariant);
}
