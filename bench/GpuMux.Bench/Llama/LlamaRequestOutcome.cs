namespace GpuMux.Bench.Llama;

/// <summary>
/// How one request of the Llama trace fared: when each token it got was delivered, in
/// milliseconds from its arrival, its tokens, whether they were right, and why it ended early
/// (its model refused, a failure, or the cut-off), where it did.
/// </summary>
internal sealed record LlamaRequestOutcome(LlamaTraceRequest Request, double[] TokenMilliseconds, int[] Tokens, string? Failure)
{
    public bool Completed => Failure is null && TokenMilliseconds.Length == Request.OutputTokens;

    /// <summary>Arrival to first token; NaN when none came.</summary>
    public double TimeToFirstToken => TokenMilliseconds.Length > 0 ? TokenMilliseconds[0] : double.NaN;

    /// <summary>The mean gap between tokens after the first; NaN for a request that did not complete or had one token.</summary>
    public double TimePerOutputToken => Completed && TokenMilliseconds.Length > 1
        ? (TokenMilliseconds[^1] - TokenMilliseconds[0]) / (TokenMilliseconds.Length - 1)
        : double.NaN;

    /// <summary>Completed, its first token within <paramref name="ttftMilliseconds"/>, and its mean gap within <paramref name="tpotMilliseconds"/>; a one-token request has no gap to miss.</summary>
    public bool MeetsSlo(double ttftMilliseconds, double tpotMilliseconds) =>
        Completed && TimeToFirstToken <= ttftMilliseconds && (TokenMilliseconds.Length == 1 || TimePerOutputToken <= tpotMilliseconds);
}
