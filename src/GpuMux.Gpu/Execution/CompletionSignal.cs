using System.Runtime.InteropServices;

namespace GpuMux.Gpu;

/// <summary>
/// What a thread sleeps on until device work it queued completes, or something else sets it:
/// <see cref="SetAfter"/> queues a host function that sets it once everything queued on a stream
/// before it has completed, so the sleeper learns of a completion without polling. The host
/// function only sets the signal, which takes no lock it could be held up on. A faulted context
/// calls no host function, so a sleeper with work on the device must bound its wait to see a fault.
/// </summary>
public sealed unsafe class CompletionSignal : IDisposable
{
    // Never disposed: a Set may race the sleeper's end, and an event whose wait handle was never
    // asked for holds nothing that needs releasing.
    private readonly ManualResetEventSlim _signal = new(initialState: false);
    private GCHandle _self;

    public CompletionSignal() => _self = GCHandle.Alloc(this);

    /// <summary>Times <see cref="Wait"/> returned: a count of the sleeper's wake-ups, for measurements and tests.</summary>
    public long Wakeups { get; private set; }

    /// <summary>Sets the signal from any thread.</summary>
    public void Set() => _signal.Set();

    /// <summary>Clears the signal; a <see cref="Set"/> after this makes the next <see cref="Wait"/> return at once.</summary>
    public void Reset() => _signal.Reset();

    /// <summary>Sleeps until the signal is set or <paramref name="timeout"/> passes (<see cref="Timeout.InfiniteTimeSpan"/>: no limit).</summary>
    public bool Wait(TimeSpan timeout)
    {
        var set = _signal.Wait(timeout);
        Wakeups++;
        return set;
    }

    /// <summary>Sets the signal once everything queued on <paramref name="stream"/> so far has completed.</summary>
    public void SetAfter(GpuStream stream) => stream.LaunchHostFunction(&OnHostFunction, GCHandle.ToIntPtr(_self));

    /// <summary>
    /// Lets go of the handle the host functions find the signal by. Only once no host function can
    /// run any more: every context it was queued on has been disposed (or reset).
    /// </summary>
    public void Dispose()
    {
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }

    [UnmanagedCallersOnly]
    private static void OnHostFunction(nint self) => ((CompletionSignal)GCHandle.FromIntPtr(self).Target!).Set();
}
