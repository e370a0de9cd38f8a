using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>
/// A stream the engine queues work on, with the stream of its own that wakes the engine thread
/// once that work has completed: a wake-up waits only for the work of its own stream, which
/// completes in order, never for another stream's behind which it happened to be queued. Made
/// and let go together.
/// </summary>
internal sealed class WatchedStream : IDisposable
{
    private readonly CompletionSignal _completions;
    private readonly GpuStream _wake;
    private readonly GpuEvent _mark;

    public WatchedStream(GpuContext context, int priority, CompletionSignal completions)
    {
        _completions = completions;
        Stream = context.CreateStream(priority);
        try
        {
            _wake = context.CreateStream();
            try
            {
                _mark = context.CreateEvent(enableTiming: false);
            }
            catch
            {
                _wake.Dispose();
                throw;
            }
        }
        catch
        {
            Stream.Dispose();
            throw;
        }
    }

    /// <summary>Where the work goes.</summary>
    public GpuStream Stream { get; }

    /// <summary>
    /// Wakes the engine thread once everything queued on <see cref="Stream"/> so far has
    /// completed, so that it need not poll. The host function that sets the signal goes on the
    /// wake stream, behind a wait for a mark: on <see cref="Stream"/> it would hold the stream
    /// until the host had run it, and the device would fill that gap with lower-priority work,
    /// one kernel of another class ahead of the class's next step at every step. A wait takes the
    /// mark as last recorded when it is queued, so the mark can be recorded again at once.
    /// </summary>
    public void WakeAfterQueuedWork()
    {
        Stream.Record(_mark);
        _wake.Wait(_mark);
        _completions.SetAfter(_wake);
    }

    /// <summary>Work and wake-ups still queued run to their end first, as a destroyed stream's do.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        _wake.Dispose();
        _mark.Dispose();
    }
}
