using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>
/// What sessions let go of while work queued before the release may still use it (a step's
/// copies and kernels, a new buffer's zeroing), each held until an event recorded behind that
/// work on its stream has completed: memory handed back under queued work would turn the work
/// into an illegal address, or into writes to whoever has the memory next. Looked at by the engine
/// thread, which never waits for the device, when the stream's wake-up wakes it.
/// </summary>
internal sealed class DeferredReleases(EventPool fences)
{
    // A release without a fence waits for ReleaseAll: its stream's context broke before it could have one.
    private readonly List<(GpuEvent? Fence, Action Release)> _pending = [];

    public bool HasPending => _pending.Count > 0;

    /// <summary>
    /// Runs <paramref name="release"/> now if nothing is queued on <paramref name="stream"/>, else
    /// once what is queued there now has completed. On a broken context it is kept for
    /// <see cref="ReleaseAll"/>, after the reset, and the device's error is thrown for the caller
    /// to recover from.
    /// </summary>
    public void Add(WatchedStream stream, Action release)
    {
        GpuEvent? fence = null;
        try
        {
            if (!stream.Stream.IsIdle())
            {
                fence = fences.Rent();
                stream.Stream.Record(fence);
                stream.WakeAfterQueuedWork();
            }
        }
        catch (GpuException)
        {
            if (fence is not null)
            {
                fences.Return(fence);
            }
            _pending.Add((null, release));
            throw;
        }
        if (fence is null)
        {
            release();
        }
        else
        {
            _pending.Add((fence, release));
        }
    }

    /// <summary>Runs the releases whose work has completed; true if any ran. A failed event query means a broken context and is left to the caller.</summary>
    public bool ReleaseCompleted()
    {
        var released = false;
        for (var i = 0; i < _pending.Count; i++)
        {
            var (fence, release) = _pending[i];
            if (fence is not null && fence.IsComplete())
            {
                _pending.RemoveAt(i--);
                fences.Return(fence);
                release();
                released = true;
            }
        }
        return released;
    }

    /// <summary>
    /// Runs every release, once nothing of the context can run any more: it has been
    /// synchronised, or destroyed by a reset.
    /// </summary>
    public void ReleaseAll()
    {
        while (_pending.Count > 0)
        {
            var (fence, release) = _pending[^1];
            _pending.RemoveAt(_pending.Count - 1);
            if (fence is not null)
            {
                fences.Return(fence);
            }
            release();
        }
    }
}
