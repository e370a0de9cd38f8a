using GpuMux.Engine;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// How one request of the trace fared: each step's time as the client saw it, in milliseconds
/// (the first from the request's arrival, each other from its own submission), NaN for a step
/// that did not complete (not reached by the cut-off, failed, or of a model the engine refused).
/// </summary>
internal sealed record RequestOutcome(TraceRequest Request, double[] StepMilliseconds, bool Refused, EngineError? Failure)
{
    public bool Completed => StepMilliseconds.All(double.IsFinite);

    public int StepsWithin(double sloMilliseconds) => StepMilliseconds.Count(t => t <= sloMilliseconds);

    public int UnfinishedSteps => Refused ? 0 : StepMilliseconds.Count(double.IsNaN);
}
