using System.Numerics;
using GpuMux.Gpu;

namespace GpuMux.Engine.Memory;

/// <summary>
/// The pinned host tier for registered weights: one block of registered host memory taken at
/// start and carved into slices, first fit over free extents kept in address order. Thread-safe:
/// staging threads fill slices while the engine thread copies from them.
/// <para>
/// The memory is the daemon's, registered with the context rather than allocated by it, so the
/// weights staged here survive a device reset: <see cref="Reattach"/> registers them with the new
/// context.
/// </para>
/// </summary>
internal sealed class PinnedStagingPool : IDisposable
{
    private readonly Lock _gate = new();
    private readonly RegisteredHostMemory _memory;
    private readonly ulong _alignment;

    // Sorted by offset; neighbours are always merged, so no two extents touch.
    private readonly List<Extent> _free = [];
    private ulong _freeBytes;
    private bool _disposed;

    /// <summary>
    /// <paramref name="budgetBytes"/>, rounded down to <paramref name="alignment"/> (a power of
    /// two), of pinned memory; a budget of 0 is a pool with nothing in it, and every model then
    /// goes to the file tier.
    /// </summary>
    public PinnedStagingPool(GpuContext context, ulong budgetBytes, ulong alignment = 4096)
    {
        if (alignment == 0 || !BitOperations.IsPow2(alignment))
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "the alignment must be a power of two");
        }
        _alignment = alignment;
        BudgetBytes = budgetBytes / alignment * alignment;
        _memory = new RegisteredHostMemory(context, BudgetBytes, alignment);
        if (BudgetBytes > 0)
        {
            _free.Add(new Extent(0, BudgetBytes));
        }
        _freeBytes = BudgetBytes;
    }

    public ulong BudgetBytes { get; }

    public ulong FreeBytes
    {
        get
        {
            lock (_gate)
            {
                return _freeBytes;
            }
        }
    }

    /// <summary>How many pieces the free memory is in (1 when nothing is allocated).</summary>
    public int FreeExtentCount
    {
        get
        {
            lock (_gate)
            {
                return _free.Count;
            }
        }
    }

    /// <summary>An aligned slice of at least <paramref name="bytes"/>, or null when no free extent is that large.</summary>
    public PinnedSlice? TryAllocate(ulong bytes)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        if (bytes > BudgetBytes)
        {
            return null;
        }
        var length = (bytes + _alignment - 1) / _alignment * _alignment;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (var i = 0; i < _free.Count; i++)
            {
                var extent = _free[i];
                if (extent.Length < length)
                {
                    continue;
                }
                if (extent.Length == length)
                {
                    _free.RemoveAt(i);
                }
                else
                {
                    _free[i] = new Extent(extent.Offset + length, extent.Length - length);
                }
                _freeBytes -= length;
                return new PinnedSlice(this, _memory.Pointer + (nint)extent.Offset, extent.Offset, bytes, length);
            }
            return null;
        }
    }

    /// <summary>Gives <paramref name="slice"/> back; freeing it again, or after the pool is disposed, does nothing.</summary>
    public void Free(PinnedSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (slice.Owner != this)
        {
            throw new ArgumentException("the slice belongs to another pool", nameof(slice));
        }
        lock (_gate)
        {
            if (slice.IsFreed || _disposed)
            {
                return;
            }
            slice.IsFreed = true;
            Insert(new Extent(slice.Offset, slice.ExtentBytes));
            _freeBytes += slice.ExtentBytes;
        }
    }

    /// <summary>
    /// After a device reset: drops the registration with the old context (dead or not) and
    /// registers the same memory, bytes unchanged, with <paramref name="newContext"/>. Call from
    /// the new context's thread.
    /// </summary>
    public void Reattach(GpuContext newContext)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _memory.Reattach(newContext);
        }
    }

    /// <summary>Frees the memory, with every slice in it; no copy from it may be in flight.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _free.Clear();
            _freeBytes = 0;
            _memory.Dispose();
        }
    }

    private void Insert(Extent extent)
    {
        var index = FirstAfter(extent.Offset);
        var joinsPrevious = index > 0 && _free[index - 1].End == extent.Offset;
        var joinsNext = index < _free.Count && extent.End == _free[index].Offset;
        if (joinsPrevious && joinsNext)
        {
            var previous = _free[index - 1];
            _free[index - 1] = previous with { Length = previous.Length + extent.Length + _free[index].Length };
            _free.RemoveAt(index);
        }
        else if (joinsPrevious)
        {
            var previous = _free[index - 1];
            _free[index - 1] = previous with { Length = previous.Length + extent.Length };
        }
        else if (joinsNext)
        {
            _free[index] = new Extent(extent.Offset, extent.Length + _free[index].Length);
        }
        else
        {
            _free.Insert(index, extent);
        }
    }

    /// <summary>The index of the first free extent that starts after <paramref name="offset"/>.</summary>
    private int FirstAfter(ulong offset)
    {
        int low = 0, high = _free.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_free[middle].Offset > offset)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }
        return low;
    }

    private readonly record struct Extent(ulong Offset, ulong Length)
    {
        public ulong End => Offset + Length;
    }
}
