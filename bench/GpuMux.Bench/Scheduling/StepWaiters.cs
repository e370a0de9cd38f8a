using System.Collections.Concurrent;
using GpuMux.Engine;
using GpuMux.Engine.Device;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// A session's completion sink for steps in flight side by side: each submission gets a task
/// that its own completion completes, tagged with the moment the engine delivered it, which is
/// when a daemon would send it to the client.
/// </summary>
internal sealed class StepWaiters : IStepCompletionSink
{
    private readonly ConcurrentDictionary<uint, Waiter> _waiting = new();
    private int _lastTag;

    /// <summary>Submits <paramref name="step"/> (rented from <paramref name="session"/>, whose sink this is) and returns its outcome.</summary>
    public Task<StepOutcome> SubmitAsync(EngineSession session, Step step)
    {
        var tag = (uint)Interlocked.Increment(ref _lastTag);
        step.RequestId = tag;
        var waiter = new Waiter(MonotonicClock.NowNanoseconds());
        _waiting[tag] = waiter;
        session.Submit(step);
        return waiter.Completed.Task;
    }

    public void OnStepCompleted(in StepCompletion completion)
    {
        if (_waiting.TryRemove(completion.RequestId, out var waiter))
        {
            waiter.Completed.SetResult(new StepOutcome(completion, waiter.SubmittedAtNs, MonotonicClock.NowNanoseconds()));
        }
    }

    // Continuations run on the pool, never on the engine thread that delivers the completion.
    private sealed record Waiter(long SubmittedAtNs)
    {
        public TaskCompletionSource<StepOutcome> Completed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// One step's completion, with the host's monotonic nanoseconds at which the benchmark submitted
/// it and at which the engine delivered its completion.
/// </summary>
internal readonly record struct StepOutcome(StepCompletion Completion, long SubmittedAtNs, long DeliveredAtNs)
{
    public bool Succeeded => Completion.Status == EngineError.None;

    /// <summary>From submission to the delivery of its completion: what the client waits.</summary>
    public double ClientMilliseconds => (DeliveredAtNs - SubmittedAtNs) / 1e6;

    /// <summary>From the engine's queueing of the step to its end event on the device.</summary>
    public double QueuedToEndMilliseconds => (Completion.EndedAtNs - Completion.QueuedAtNs) / 1e6;

    public double DeviceMilliseconds => (Completion.EndedAtNs - Completion.StartedAtNs) / 1e6;

    /// <summary>Throws for a step that failed: none of these benchmarks' steps should.</summary>
    public StepOutcome ThrowIfFailed(string what) =>
        Succeeded ? this : throw new EngineException(Completion.Status, $"{what} failed: {Completion.Message}");
}
