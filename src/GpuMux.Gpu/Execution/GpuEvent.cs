namespace GpuMux.Gpu;

/// <summary>
/// A point in a stream's work, recorded with <see cref="GpuStream.Record"/>. An event never
/// recorded counts as complete, as in CUDA.
/// </summary>
public abstract class GpuEvent(GpuContext context, bool timingEnabled) : GpuContextResource(context)
{
    public bool TimingEnabled { get; } = timingEnabled;

    public bool IsComplete()
    {
        EnterCall();
        return IsCompleteCore();
    }

    public void Synchronize()
    {
        EnterCall();
        SynchronizeCore();
    }

    /// <summary>
    /// Device time between two completed events with timing enabled, in milliseconds, at about
    /// half a microsecond's resolution. <see cref="GpuStatus.NotReady"/> if either has not completed.
    /// </summary>
    public static float ElapsedMilliseconds(GpuEvent start, GpuEvent end)
    {
        start.EnterCall();
        end.EnterCall();
        if (start.Context != end.Context)
        {
            throw new GpuException(GpuStatus.InvalidHandle, "events belong to different contexts");
        }
        return end.ElapsedSinceCore(start);
    }

    protected abstract bool IsCompleteCore();

    protected abstract void SynchronizeCore();

    protected abstract float ElapsedSinceCore(GpuEvent start);
}
