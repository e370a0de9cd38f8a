using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>The events that bracket one step on its stream, and the anchor they are measured from.</summary>
internal readonly record struct StepTiming(TimingAnchor Anchor, GpuEvent Start, GpuEvent End)
{
    public bool IsHeld => Start is not null;
}

/// <summary>
/// The engine's hold on the device: one GPU context, owned by the engine thread, and what the
/// engine keeps on it for every step (the timeline, spare events, the argument list reused by
/// every launch). After a sticky fault the whole of it is let go and a new one made.
/// </summary>
internal sealed class DeviceContext : IDisposable
{
    private readonly EventPool _events;

    private DeviceContext(GpuContext context)
    {
        Context = context;
        _events = new EventPool(context);
        Timeline = new GpuTimeline(context);
    }

    public GpuContext Context { get; }

    public GpuTimeline Timeline { get; }

    /// <summary>Filled afresh for each launch; the driver copies the values when the launch is queued.</summary>
    public KernelArguments Arguments { get; } = new();

    public static DeviceContext Create(GpuBackend backend, int ordinal)
    {
        var context = backend.CreateContext(ordinal);
        try
        {
            return new DeviceContext(context);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public StepTiming RentTiming()
    {
        var start = _events.Rent();
        try
        {
            var end = _events.Rent();
            try
            {
                return new StepTiming(Timeline.Acquire(), start, end);
            }
            catch
            {
                _events.Return(end);
                throw;
            }
        }
        catch
        {
            _events.Return(start);
            throw;
        }
    }

    /// <summary>When the step started and ended on the host clock; both its events have completed.</summary>
    public static (long StartedAt, long EndedAt) Measure(in StepTiming timing) =>
        (GpuTimeline.HostNanoseconds(timing.Anchor, timing.Start), GpuTimeline.HostNanoseconds(timing.Anchor, timing.End));

    /// <summary>Takes back a step's timing, which may come from an earlier context after a reset.</summary>
    public void ReturnTiming(in StepTiming timing)
    {
        timing.Anchor.Timeline.Release(timing.Anchor);
        _events.Return(timing.Start);
        _events.Return(timing.End);
    }

    public void Dispose()
    {
        _events.Dispose();
        Timeline.Dispose();
        Context.Dispose();
    }
}
