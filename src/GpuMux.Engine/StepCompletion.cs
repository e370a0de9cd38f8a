namespace GpuMux.Engine;

/// <summary>
/// The outcome of one submitted step. Times are nanoseconds on the host's monotonic clock
/// (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, CLOCK_MONOTONIC on Linux):
/// <see cref="QueuedAtNs"/> when it was submitted, <see cref="StartedAtNs"/> and
/// <see cref="EndedAtNs"/> when the device began and finished it. A step that failed before it
/// reached the device has both at 0. <see cref="ClassName"/> is the priority class it ran in, or
/// its session's where it was refused before it had one.
/// </summary>
public readonly record struct StepCompletion(
    uint RequestId,
    EngineError Status,
    string? Message,
    long QueuedAtNs,
    long StartedAtNs,
    long EndedAtNs,
    string ClassName);

/// <summary>
/// Receives the outcome of every step a session submits. Called on the engine thread, which
/// every session shares: hand the completion on (to a channel, say) and return; never block.
/// </summary>
public interface IStepCompletionSink
{
    void OnStepCompleted(in StepCompletion completion);
}
