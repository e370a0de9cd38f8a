using GpuMux.Engine.Scheduling;

namespace GpuMux.Bench.Llama;

/// <summary>One replay of the Llama trace at one rate under one policy: every request's outcome, the models refused (by rank; null where opened), the swap-ins during the replay, and the run's length.</summary>
internal sealed record LlamaPolicyRun(
    SchedulingPolicy Policy,
    double Rate,
    LlamaTraceParameters Parameters,
    IReadOnlyList<LlamaRequestOutcome> Requests,
    IReadOnlyList<string?> Refusals,
    long Swaps,
    double ElapsedSeconds)
{
    /// <summary>The share of a model's requests that must meet the objectives for the model to count as served.</summary>
    public const double ModelTarget = 0.9;

    public int Meeting => Requests.Count(Meets);

    /// <summary>The share of the window's requests that met both objectives; refused, failed and unfinished requests are misses.</summary>
    public double Attainment => Requests.Count == 0 ? 1 : Meeting / (double)Requests.Count;

    /// <summary>Requests per second of the arrival window that met both objectives.</summary>
    public double Goodput => Meeting / Parameters.DurationSeconds;

    public SampleStatistics? TimesToFirstToken => Statistics(Requests.Select(r => r.TimeToFirstToken));

    public SampleStatistics? TimesPerOutputToken => Statistics(Requests.Select(r => r.TimePerOutputToken));

    public int CompletedRequests => Requests.Count(r => r.Completed);

    public int RefusedModels => Refusals.Count(r => r is not null);

    public IReadOnlyDictionary<string, int> Failures =>
        Requests.Where(r => r.Failure is not null).GroupBy(r => r.Failure!).ToDictionary(g => g.Key, g => g.Count());

    public int ModelsWithRequests => Enumerable.Range(0, Parameters.Models).Count(m => Requests.Any(r => r.Request.Model == m));

    /// <summary>Models with requests of which at least <see cref="ModelTarget"/> met the objectives.</summary>
    public int ModelsServed => Requests.GroupBy(r => r.Request.Model).Count(g => g.Count(Meets) >= ModelTarget * g.Count());

    private bool Meets(LlamaRequestOutcome outcome) => outcome.MeetsSlo(Parameters.TtftSloMilliseconds, Parameters.TpotSloMilliseconds);

    private static SampleStatistics? Statistics(IEnumerable<double> times)
    {
        var finite = times.Where(double.IsFinite).ToList();
        return finite.Count == 0 ? null : SampleStatistics.Of(finite);
    }
}
