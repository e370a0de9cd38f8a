using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>An event whose completion time on the host clock is known, and how many steps are measured from it.</summary>
internal sealed class TimingAnchor(GpuTimeline timeline, GpuEvent marker)
{
    public GpuTimeline Timeline { get; } = timeline;

    public GpuEvent Marker { get; } = marker;

    public long HostNanoseconds { get; set; }

    public int Users { get; set; }
}

/// <summary>
/// Puts device event times on the host's monotonic clock. The device only tells the time between
/// two events, as a float of milliseconds, so the timeline records an anchor event on an idle
/// stream of its own and notes the host time around it; a step's events are then measured from
/// the anchor that was current when the step was issued. The anchor's host time is the midpoint
/// of a record and a wait, so it is off by as much as the thread was held up inside them (a
/// preemption there once put steps' ends before their submission): each anchor is the one of
/// several tries with the narrowest bracket. A new anchor is taken every second,
/// which keeps the float's resolution well under a microsecond. A step is always measured from
/// an anchor recorded before it, since whether the driver returns negative elapsed times is not
/// something to rely on: an old anchor lives on until the last step measured from it is done.
/// </summary>
internal sealed class GpuTimeline : IDisposable
{
    private const long ReanchorAfterNanoseconds = 1_000_000_000;
    private const double NanosecondsPerMillisecond = 1e6;
    private const int AnchorTries = 4;

    private readonly GpuContext _context;
    private readonly GpuStream _stream;
    private readonly List<TimingAnchor> _anchors = [];
    private readonly Stack<TimingAnchor> _spare = new();
    private TimingAnchor _current;
    private bool _disposed;

    public GpuTimeline(GpuContext context)
    {
        _context = context;
        _stream = context.CreateStream();
        _current = Anchor();
    }

    /// <summary>The anchor to measure a step issued now from; pair with <see cref="Release"/>.</summary>
    public TimingAnchor Acquire()
    {
        if (MonotonicClock.NowNanoseconds() - _current.HostNanoseconds > ReanchorAfterNanoseconds)
        {
            var previous = _current;
            _current = Anchor();
            if (previous.Users == 0)
            {
                _spare.Push(previous);
            }
        }
        _current.Users++;
        return _current;
    }

    public void Release(TimingAnchor anchor)
    {
        if (--anchor.Users == 0 && anchor != _current && !_disposed)
        {
            _spare.Push(anchor);
        }
    }

    /// <summary>When <paramref name="marker"/>, completed, happened on the host clock.</summary>
    public static long HostNanoseconds(TimingAnchor anchor, GpuEvent marker) =>
        anchor.HostNanoseconds + (long)(GpuEvent.ElapsedMilliseconds(anchor.Marker, marker) * NanosecondsPerMillisecond);

    public void Dispose()
    {
        _disposed = true;
        foreach (var anchor in _anchors)
        {
            anchor.Marker.Dispose();
        }
        _stream.Dispose();
    }

    private TimingAnchor NewAnchor()
    {
        var anchor = new TimingAnchor(this, _context.CreateEvent(enableTiming: true));
        _anchors.Add(anchor);
        return anchor;
    }

    /// <summary>
    /// Records anchors on the idle stream and waits for each, keeping the one whose record and
    /// wait took least: the midpoint of that bracket is the estimate, within half its width.
    /// </summary>
    private TimingAnchor Anchor()
    {
        TimingAnchor? best = null;
        var narrowest = long.MaxValue;
        for (var i = 0; i < AnchorTries; i++)
        {
            var anchor = _spare.TryPop(out var spare) ? spare : NewAnchor();
            var before = MonotonicClock.NowNanoseconds();
            _stream.Record(anchor.Marker);
            anchor.Marker.Synchronize();
            var after = MonotonicClock.NowNanoseconds();
            anchor.HostNanoseconds = before + ((after - before) / 2);
            if (after - before < narrowest)
            {
                (best, anchor) = (anchor, best);
                narrowest = after - before;
            }
            if (anchor is not null)
            {
                _spare.Push(anchor);
            }
        }
        return best!;
    }
}
