namespace GpuMux.Client;

/// <summary>
/// A completed step's times, all nanoseconds of CLOCK_MONOTONIC: the daemon's (queued, started and
/// ended on the GPU) and this client's (submitted, and the completion received), which Linux
/// <see cref="System.Diagnostics.Stopwatch"/> timestamps share. Started and ended are 0 for a
/// step that had no op to run on the GPU.
/// </summary>
public readonly record struct StepResult(long QueuedAtNs, long StartedAtNs, long EndedAtNs, long SubmittedAtNs, long CompletedAtNs)
{
    /// <summary>From the step's first op starting on the device to its last op finishing.</summary>
    public TimeSpan GpuTime => FromNanoseconds(EndedAtNs - StartedAtNs);

    /// <summary>From just before the step was sent to its completion arriving.</summary>
    public TimeSpan RoundTrip => FromNanoseconds(CompletedAtNs - SubmittedAtNs);

    private static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);
}
