using GpuMux.Engine;
using GpuMux.Engine.Scheduling;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// One replay of the trace at one rate under one policy: every request's outcome, the models the
/// engine refused (by rank; null where registered), the decode steps run (each a token of every
/// request in its batch), the swap-ins during the replay, and the steps whose results did not
/// match the reference. A request's step, here, is one of its tokens.
/// </summary>
internal sealed record PolicyRun(
    SchedulingPolicy Policy,
    double Rate,
    double SloMilliseconds,
    int Models,
    IReadOnlyList<RequestOutcome> Requests,
    IReadOnlyList<string?> Refusals,
    int DeviceSteps,
    long Swaps,
    int WrongResults,
    double ElapsedSeconds)
{
    /// <summary>The share of a model's steps that must be on time for it to count as served.</summary>
    public const double ModelTarget = 0.99;

    public int TotalSteps => Requests.Sum(r => r.Request.Steps);

    /// <summary>The share of all steps of the window's requests on time; unfinished and refused steps are misses.</summary>
    public double Attainment => Share(Requests.Sum(r => r.StepsOnTime(SloMilliseconds)));

    /// <summary>The share of all steps of the window's requests within one objective of the step before.</summary>
    public double GapAttainment => Share(Requests.Sum(r => r.StepsWithinGap(SloMilliseconds)));

    /// <summary>Each step's time after the one before (the first's after the arrival), over delivered steps; null when none were.</summary>
    public SampleStatistics? StepTimes => Statistics(Requests.SelectMany(r => r.Gaps()));

    /// <summary>Time to first step: from a request's arrival to its first step's delivery, over delivered first steps.</summary>
    public SampleStatistics? FirstStepTimes => Statistics(Requests.Select(r => r.TokenMilliseconds[0]));

    /// <summary>Requests' steps per decode step run: how many requests a model's step served at once, on average.</summary>
    public double MeanBatch => DeviceSteps == 0 ? 0 : Requests.Sum(r => r.DeliveredSteps) / (double)DeviceSteps;

    public int CompletedRequests => Requests.Count(r => r.Completed);

    public int UnfinishedSteps => Requests.Sum(r => r.UnfinishedSteps);

    public int RefusedSteps => Requests.Where(r => r.Refused).Sum(r => r.Request.Steps);

    public int RefusedModels => Refusals.Count(r => r is not null);

    public IReadOnlyDictionary<EngineError, int> Failures =>
        Requests.Where(r => r.Failure is not null).GroupBy(r => r.Failure!.Value).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Per model by rank: its steps in the window, those on time, and whether it was refused.</summary>
    public IReadOnlyList<ModelAttainment> PerModel =>
    [
        .. Enumerable.Range(0, Models).Select(model =>
        {
            var own = Requests.Where(r => r.Request.Model == model).ToList();
            return new ModelAttainment(model, own.Count, own.Sum(r => r.Request.Steps), own.Sum(r => r.StepsOnTime(SloMilliseconds)), Refusals[model] is not null);
        }),
    ];

    public int ModelsWithRequests => PerModel.Count(m => m.Steps > 0);

    public int ModelsServed => PerModel.Count(m => m.IsServed);

    private double Share(int steps) => TotalSteps == 0 ? 1 : steps / (double)TotalSteps;

    private static SampleStatistics? Statistics(IEnumerable<double> times)
    {
        var finished = times.Where(double.IsFinite).ToList();
        return finished.Count == 0 ? null : SampleStatistics.Of(finished);
    }
}

/// <summary>One model's requests and steps in one replay, and how many of its steps were on time.</summary>
internal readonly record struct ModelAttainment(int Model, int Requests, int Steps, int StepsOnTime, bool Refused)
{
    /// <summary>It had requests, and at least <see cref="PolicyRun.ModelTarget"/> of its steps were on time.</summary>
    public bool IsServed => Steps > 0 && StepsOnTime >= PolicyRun.ModelTarget * Steps;
}
