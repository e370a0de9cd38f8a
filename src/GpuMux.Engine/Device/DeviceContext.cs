using GpuMux.Engine.Memory;
using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>
/// The engine's hold on the device: one GPU context, owned by the engine thread, and what the
/// engine keeps on it: the device pool that buffers and models' weights share, the stream that
/// swaps weights in, the timeline, spare events, the argument list reused by every launch, and
/// what sessions let go of while work queued on it may still use it. After a sticky fault the
/// whole of it is let go and a new one made, with a pool of the same budget.
/// </summary>
internal sealed class DeviceContext : IDisposable
{
    private readonly EventPool _events;
    private readonly EventPool _fences;
    private readonly CompletionSignal _completions;
    private readonly Stack<StepTiming> _timings = new();

    private DeviceContext(GpuContext context, ulong poolBudget, ulong pageBytes, CompletionSignal completions)
    {
        Context = context;
        _completions = completions;
        _events = new EventPool(context, enableTiming: true);
        _fences = new EventPool(context, enableTiming: false);
        Releases = new DeferredReleases(_fences);
        Timeline = new GpuTimeline(context);
        Pool = new DevicePagePool(context, poolBudget, pageBytes);
        // Swap-ins gate the steps that wait for them, so they go first among copies.
        CopyStream = new WatchedStream(context, context.StreamPriorities.Greatest, completions);
    }

    public GpuContext Context { get; }

    public GpuTimeline Timeline { get; }

    /// <summary>The memory the engine took at start; buffers and resident models are pages of it.</summary>
    public DevicePagePool Pool { get; }

    /// <summary>Where every swap-in's copies are queued, in the order their models were swapped in.</summary>
    public WatchedStream CopyStream { get; }

    /// <summary>Releases waiting for the work queued before them; on a faulted context, for the reset that ends that work.</summary>
    public DeferredReleases Releases { get; }

    /// <summary>Filled afresh for each launch; the driver copies the values when the launch is queued.</summary>
    public KernelArguments Arguments { get; } = new();

    /// <summary>A sticky fault has poisoned the context: nothing may be called on it any more, only let go.</summary>
    public bool IsFaulted { get; private set; }

    /// <summary>
    /// A new context on device <paramref name="ordinal"/> and a device pool of <paramref name="poolBudget"/>
    /// bytes, or, when that is 0, of the share of the device's free memory that the options give,
    /// in pages of the options' size. <paramref name="verify"/>, where given, runs on the bare
    /// context before the pool takes its memory, and refuses the context by throwing.
    /// <paramref name="completions"/> is what the engine thread sleeps on.
    /// </summary>
    public static DeviceContext Create(GpuBackend backend, int ordinal, EngineOptions options, CompletionSignal completions, ulong poolBudget = 0, Action<GpuContext>? verify = null)
    {
        var context = backend.CreateContext(ordinal);
        try
        {
            verify?.Invoke(context);
            if (poolBudget == 0)
            {
                poolBudget = options.DevicePoolBytes != 0
                    ? options.DevicePoolBytes
                    : (ulong)(context.GetMemoryInfo().FreeBytes * options.DevicePoolFraction);
            }
            return new DeviceContext(context, poolBudget, options.DevicePageBytes, completions);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public void MarkFaulted() => IsFaulted = true;

    /// <summary>A new stream at <paramref name="priority"/> whose work wakes the engine thread when asked to.</summary>
    public WatchedStream CreateWatchedStream(int priority) => new(Context, priority, _completions);

    /// <summary>A step's timing, measured from the current anchor, its first mark recorded on <paramref name="stream"/>.</summary>
    public StepTiming BeginTiming(GpuStream stream)
    {
        var timing = _timings.TryPop(out var spare) ? spare : new StepTiming();
        timing.Open(Timeline.Acquire());
        try
        {
            timing.Mark(stream, _events, DeviceEngine.None);
        }
        catch
        {
            ReturnTiming(timing);
            throw;
        }
        return timing;
    }

    /// <summary>Records a mark on the step's stream after an op (or a wait) that ran on <paramref name="ranOn"/>.</summary>
    public void Mark(StepTiming timing, GpuStream stream, DeviceEngine ranOn) => timing.Mark(stream, _events, ranOn);

    public void CloseTiming(StepTiming timing, GpuStream stream) => timing.Close(stream, _events);

    /// <summary>Makes <paramref name="after"/> wait for everything queued on <paramref name="before"/> so far, without waiting here.</summary>
    public void Order(GpuStream before, GpuStream after)
    {
        // A wait holds the event's state when it is queued, so the event can be recorded again at once.
        var fence = _fences.Rent();
        try
        {
            before.Record(fence);
            after.Wait(fence);
        }
        finally
        {
            _fences.Return(fence);
        }
    }

    /// <summary>Takes back a step's timing, which may come from an earlier context after a reset.</summary>
    public void ReturnTiming(StepTiming timing)
    {
        timing.Anchor.Timeline.Release(timing.Anchor);
        timing.Clear(_events);
        _timings.Push(timing);
    }

    /// <summary>
    /// Lets the context go. A healthy one first finishes its work and runs the releases waiting
    /// for it; a faulted one leaves them to the caller, to run once nothing of the old context can
    /// still be on the device (after the reset, when there is one).
    /// </summary>
    public void Dispose()
    {
        if (!IsFaulted)
        {
            try
            {
                Context.Synchronize();
                Releases.ReleaseAll();
            }
            catch (GpuException)
            {
                // The context broke at the last moment: its work is ended by its destruction instead.
                IsFaulted = true;
            }
        }
        CopyStream.Dispose();
        try
        {
            Pool.Dispose();
        }
        catch (GpuException)
        {
            // A faulted context refuses the unmapping; destroying the context frees the pool's memory all the same.
        }
        _events.Dispose();
        _fences.Dispose();
        Timeline.Dispose();
        Context.Dispose();
    }
}
