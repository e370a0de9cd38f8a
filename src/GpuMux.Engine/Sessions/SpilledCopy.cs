using GpuMux.Engine.Memory;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// A spilled buffer's bytes in a slice of the pinned pool. Freeing it gives the slice back and
/// takes the bytes off what <paramref name="spills"/> counts as spilled now.
/// </summary>
internal sealed class SpilledCopy(PinnedSlice slice, PinnedStagingPool pool, BufferSpills spills)
{
    public PinnedSlice Slice { get; } = slice;

    /// <summary>After a device reset: the buffer reads as zero, as the ones on the device do.</summary>
    public void Clear()
    {
        for (ulong offset = 0; offset < Slice.Bytes; offset += int.MaxValue)
        {
            Slice.AsSpan(offset, (int)Math.Min(int.MaxValue, Slice.Bytes - offset)).Clear();
        }
    }

    /// <summary>Gives the slice back at once: nothing is queued on it.</summary>
    public void Free()
    {
        spills.Forget(Slice.Bytes);
        pool.Free(Slice);
    }

    /// <summary>Gives the slice back once the copy queued from it has completed; its bytes stop counting as spilled now.</summary>
    public Action FreeLater()
    {
        spills.Forget(Slice.Bytes);
        return () => pool.Free(Slice);
    }
}
