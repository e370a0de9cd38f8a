namespace GpuMux.Gpu.Sim;

internal sealed class SimEvent(SimContext context, bool timingEnabled) : GpuEvent(context, timingEnabled)
{
    /// <summary>The most recent record of this event; a wait captures it when queued, as <c>cuStreamWaitEvent</c> does.</summary>
    public SimRecord? Latest { get; set; }

    protected override bool IsCompleteCore() => context.Scheduler.IsComplete(Latest);

    protected override void SynchronizeCore() => context.Scheduler.WaitComplete(Latest);

    protected override float ElapsedSinceCore(GpuEvent start)
    {
        var from = ((SimEvent)start).Latest;
        if (!TimingEnabled || !start.TimingEnabled)
        {
            throw new GpuException(GpuStatus.InvalidHandle, "elapsed time needs two events created with timing enabled");
        }
        if (from is null || Latest is null)
        {
            throw new GpuException(GpuStatus.InvalidHandle, "elapsed time needs two recorded events");
        }
        if (!context.Scheduler.IsComplete(from) || !context.Scheduler.IsComplete(Latest))
        {
            throw new GpuException(GpuStatus.NotReady, "an event has not completed yet");
        }
        return (float)SimClock.Milliseconds(Latest.CompletedAt - from.CompletedAt);
    }

    protected override void Release()
    {
    }
}
