namespace GpuMux.Bench.Models;

/// <summary>
/// One step of the benchmark, as its completion timed it (host monotonic nanoseconds, the start
/// and end from the device's events around the step), and whether its results matched the
/// host reference.
/// </summary>
internal readonly record struct StepSample(string Model, long QueuedAtNs, long StartedAtNs, long EndedAtNs, bool Verified)
{
    /// <summary>From the step's start event to its end event: its time on the device.</summary>
    public double GpuMilliseconds => (EndedAtNs - StartedAtNs) / 1e6;

    /// <summary>From submission to the end event: the device time plus the engine's queueing and issuing.</summary>
    public double SubmitToEndMilliseconds => (EndedAtNs - QueuedAtNs) / 1e6;
}
