using GpuMux.Engine;
using GpuMux.Engine.Scheduling;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// One replay of the trace at one rate under one policy: every request's outcome, the models the
/// engine refused (by rank; null where registered), the swap-ins during the replay, and the steps
/// whose results did not match the reference.
/// </summary>
internal sealed record PolicyRun(
    SchedulingPolicy Policy,
    double Rate,
    double SloMilliseconds,
    int Models,
    IReadOnlyList<RequestOutcome> Requests,
    IReadOnlyList<string?> Refusals,
    long Swaps,
    int WrongResults,
    double ElapsedSeconds)
{
    /// <summary>The share of a model's steps that must be within the objective for it to count as served.</summary>
    public const double ModelTarget = 0.99;

    public int TotalSteps => Requests.Sum(r => r.Request.Steps);

    public int StepsWithin => Requests.Sum(r => r.StepsWithin(SloMilliseconds));

    /// <summary>The share of all steps of the window's requests within the objective; unfinished and refused steps are misses.</summary>
    public double Attainment => TotalSteps == 0 ? 1 : StepsWithin / (double)TotalSteps;

    /// <summary>Over completed steps; null when none completed.</summary>
    public SampleStatistics? StepTimes => Statistics(Requests.SelectMany(r => r.StepMilliseconds));

    /// <summary>Time to first step: from a request's arrival to its first step's completion, over completed first steps.</summary>
    public SampleStatistics? FirstStepTimes => Statistics(Requests.Select(r => r.StepMilliseconds[0]));

    public int CompletedRequests => Requests.Count(r => r.Completed);

    public int UnfinishedSteps => Requests.Sum(r => r.UnfinishedSteps);

    public int RefusedSteps => Requests.Where(r => r.Refused).Sum(r => r.Request.Steps);

    public int RefusedModels => Refusals.Count(r => r is not null);

    public IReadOnlyDictionary<EngineError, int> Failures =>
        Requests.Where(r => r.Failure is not null).GroupBy(r => r.Failure!.Value).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Per model by rank: its steps in the window, those within the objective, and whether it was refused.</summary>
    public IReadOnlyList<ModelAttainment> PerModel =>
    [
        .. Enumerable.Range(0, Models).Select(model =>
        {
            var own = Requests.Where(r => r.Request.Model == model).ToList();
            return new ModelAttainment(model, own.Count, own.Sum(r => r.Request.Steps), own.Sum(r => r.StepsWithin(SloMilliseconds)), Refusals[model] is not null);
        }),
    ];

    public int ModelsWithRequests => PerModel.Count(m => m.Steps > 0);

    public int ModelsServed => PerModel.Count(m => m.IsServed);

    private static SampleStatistics? Statistics(IEnumerable<double> times)
    {
        var finished = times.Where(double.IsFinite).ToList();
        return finished.Count == 0 ? null : SampleStatistics.Of(finished);
    }
}

/// <summary>One model's requests and steps in one replay, and how many of its steps were within the objective.</summary>
internal readonly record struct ModelAttainment(int Model, int Requests, int Steps, int StepsWithin, bool Refused)
{
    /// <summary>It had requests, and at least <see cref="PolicyRun.ModelTarget"/> of its steps were within the objective.</summary>
    public bool IsServed => Steps > 0 && StepsWithin >= PolicyRun.ModelTarget * Steps;
}
