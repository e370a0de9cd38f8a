using GpuMux.Engine;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// How one request of the trace fared: when each of its tokens (one per decode step) was
/// delivered, in milliseconds from the request's arrival, NaN for one that was not (not reached
/// by the cut-off, failed, or of a model the engine refused).
/// <para>
/// Two readings of the time-per-step objective: a token is <em>on time</em> when it is
/// delivered by its due time, (i + 1) objectives after the arrival for token i, which is what a
/// client streaming tokens at the objective's pace sees (a token early is held, and covers a
/// later gap); a token is <em>within the gap</em> when it came at most one objective after the
/// token before it (the first, after the arrival).
/// </para>
/// </summary>
internal sealed record RequestOutcome(TraceRequest Request, double[] TokenMilliseconds, bool Refused, EngineError? Failure)
{
    /// <summary>When token <paramref name="index"/> (from 0) is due, from its request's arrival.</summary>
    public static double DueMilliseconds(int index, double sloMilliseconds) => (index + 1) * sloMilliseconds;

    public bool Completed => TokenMilliseconds.All(double.IsFinite);

    public int UnfinishedSteps => Refused ? 0 : TokenMilliseconds.Count(double.IsNaN);

    public int DeliveredSteps => TokenMilliseconds.Count(double.IsFinite);

    public int StepsOnTime(double sloMilliseconds) =>
        Enumerable.Range(0, TokenMilliseconds.Length).Count(i => TokenMilliseconds[i] <= DueMilliseconds(i, sloMilliseconds));

    public int StepsWithinGap(double sloMilliseconds) => Gaps().Count(gap => gap <= sloMilliseconds);

    /// <summary>Each token's time after the one before it (the first's, after the arrival); NaN where either was not delivered.</summary>
    public IEnumerable<double> Gaps() =>
        TokenMilliseconds.Select((delivered, i) => delivered - (i == 0 ? 0 : TokenMilliseconds[i - 1]));
}
