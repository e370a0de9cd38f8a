using GpuMux.Gpu;

namespace GpuMux.Engine.Memory;

/// <summary>
/// The daemon's share of device memory, taken once when the engine starts: physical memory in a
/// few large slabs (one driver allocation each), handed out as pages mapped into reserved virtual
/// ranges. A range is contiguous in virtual space whatever pages back it, so no pattern of frees
/// can strand memory. Like everything on a context, use it from the context's thread.
/// <para>
/// Device memory does not survive a context: after a device fault the pool is disposed and a new
/// one built on the new context.
/// </para>
/// </summary>
internal sealed class DevicePagePool : IDisposable
{
    public const ulong DefaultSlabBytes = 64UL << 20;

    private readonly GpuContext _context;
    private readonly PhysicalMemory[] _slabs;
    private readonly Stack<DevicePage> _free;
    private readonly HashSet<DeviceRange> _ranges = [];
    private bool _disposed;

    /// <summary>
    /// Takes <paramref name="budgetBytes"/>, rounded down to whole pages, from the device, or throws
    /// a <see cref="GpuException"/> saying how much the device could give.
    /// </summary>
    public DevicePagePool(GpuContext context, ulong budgetBytes, ulong slabBytes = DefaultSlabBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        PageBytes = context.AllocationGranularity;
        if (slabBytes < PageBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(slabBytes), slabBytes, $"a slab must hold at least one page of {PageBytes} bytes");
        }
        BudgetBytes = budgetBytes / PageBytes * PageBytes;
        _slabs = CreateSlabs(context, BudgetBytes, slabBytes / PageBytes * PageBytes);
        _free = new Stack<DevicePage>(checked((int)(BudgetBytes / PageBytes)));
        // Pushed last page first, so that a fresh pool hands out pages in slab order and a
        // range mostly maps in a few long runs.
        for (var slab = _slabs.Length - 1; slab >= 0; slab--)
        {
            for (var offset = _slabs[slab].Length; offset > 0;)
            {
                offset -= PageBytes;
                _free.Push(new DevicePage(slab, offset));
            }
        }
    }

    public ulong PageBytes { get; }

    public ulong BudgetBytes { get; }

    public ulong FreeBytes => (ulong)_free.Count * PageBytes;

    public ulong UsedBytes => BudgetBytes - FreeBytes;

    /// <summary>A mapped, read-write range of at least <paramref name="bytes"/>, or null when there are not enough free pages.</summary>
    public DeviceRange? TryAllocate(ulong bytes)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        if (PagesFor(bytes) > (ulong)_free.Count)
        {
            return null;
        }
        var range = Reserve(bytes);
        try
        {
            if (TryMap(range))
            {
                return range;
            }
        }
        catch
        {
            Release(range);
            throw;
        }
        Release(range);
        return null;
    }

    /// <summary>Virtual addresses for <paramref name="bytes"/> with nothing mapped: a model's home, reserved once and mapped on swap-in.</summary>
    public DeviceRange Reserve(ulong bytes)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        var reservation = _context.ReserveAddressRange(checked(PagesFor(bytes) * PageBytes));
        var range = new DeviceRange(this, reservation, bytes);
        _ranges.Add(range);
        return range;
    }

    /// <summary>
    /// Maps free pages into all of <paramref name="range"/> and makes it read-write; false, with
    /// nothing mapped, when there are not enough free pages.
    /// </summary>
    public bool TryMap(DeviceRange range)
    {
        RequireLive(range);
        if (range.IsMapped)
        {
            throw new InvalidOperationException($"the range at {range.Start} is already mapped");
        }
        var count = (int)(range.MappedBytes / PageBytes);
        if (count > _free.Count)
        {
            return false;
        }
        for (var i = 0; i < count; i++)
        {
            range.HeldPages.Add(_free.Pop());
        }
        MapPages(range);
        return true;
    }

    /// <summary>
    /// Takes the pages from <paramref name="range"/> back into the pool; the range stays reserved.
    /// Work still queued on it must have finished.
    /// </summary>
    public void Unmap(DeviceRange range)
    {
        RequireLive(range);
        if (!range.IsMapped)
        {
            return;
        }
        UnmapRuns(range, range.HeldPages.Count);
        ReturnPages(range, reusable: true);
    }

    /// <summary>Unmaps <paramref name="range"/> if it is mapped and frees its addresses. Releasing twice does nothing; never throws on a dead context.</summary>
    public void Release(DeviceRange range)
    {
        RequireOwned(range);
        if (_ranges.Remove(range))
        {
            ReleaseQuietly(range);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var range in _ranges)
        {
            ReleaseQuietly(range);
        }
        _ranges.Clear();
        _free.Clear();
        foreach (var slab in _slabs)
        {
            slab.Dispose();
        }
    }

    private static PhysicalMemory[] CreateSlabs(GpuContext context, ulong budget, ulong slabBytes)
    {
        var slabs = new List<PhysicalMemory>();
        try
        {
            for (ulong taken = 0; taken < budget;)
            {
                var bytes = Math.Min(slabBytes, budget - taken);
                var status = context.TryCreatePhysicalMemory(bytes, out var slab);
                if (status != GpuStatus.Success)
                {
                    throw new GpuException(
                        status,
                        $"cannot take {budget} bytes of device memory for the page pool: the device gave {taken} bytes ({slabs.Count} slabs) and then refused a slab of {bytes} bytes with {status}");
                }
                slabs.Add(slab!);
                taken += bytes;
            }
            return [.. slabs];
        }
        catch
        {
            foreach (var slab in slabs)
            {
                slab.Dispose();
            }
            throw;
        }
    }

    private void MapPages(DeviceRange range)
    {
        var pages = range.HeldPages;
        var mapped = 0;
        try
        {
            while (mapped < pages.Count)
            {
                var run = RunLength(pages, mapped, pages.Count);
                var first = pages[mapped];
                _context.Map(range.Start + (ulong)mapped * PageBytes, (ulong)run * PageBytes, _slabs[first.Slab], first.Offset);
                mapped += run;
            }
            // Once for the whole range: access may span mappings, and one call is one driver round trip.
            _context.SetAccess(range.Start, range.MappedBytes, MemoryAccess.ReadWrite);
        }
        catch
        {
            ReturnPages(range, reusable: TryUnmapRuns(range, mapped));
            throw;
        }
    }

    /// <summary>Unmaps the first <paramref name="pageCount"/> pages of the range, one driver call per run of pages mapped together.</summary>
    private void UnmapRuns(DeviceRange range, int pageCount)
    {
        var pages = range.HeldPages;
        for (var index = 0; index < pageCount;)
        {
            var run = RunLength(pages, index, pageCount);
            _context.Unmap(range.Start + (ulong)index * PageBytes, (ulong)run * PageBytes);
            index += run;
        }
    }

    private bool TryUnmapRuns(DeviceRange range, int pageCount)
    {
        try
        {
            UnmapRuns(range, pageCount);
            return true;
        }
        catch (Exception e) when (e is GpuException or InvalidOperationException)
        {
            // A context poisoned by a fault, or already gone, refuses every call; its mappings die
            // with it. The pages cannot be known to be unmapped, so they are not handed out again.
            return false;
        }
    }

    private void ReleaseQuietly(DeviceRange range)
    {
        if (range.IsMapped)
        {
            ReturnPages(range, reusable: TryUnmapRuns(range, range.HeldPages.Count));
        }
        range.Reservation.Dispose();
    }

    private void ReturnPages(DeviceRange range, bool reusable)
    {
        var pages = range.HeldPages;
        if (reusable)
        {
            // Last page first, so the next range to take them maps them in the same long runs.
            for (var i = pages.Count - 1; i >= 0; i--)
            {
                _free.Push(pages[i]);
            }
        }
        pages.Clear();
    }

    /// <summary>How many pages from <paramref name="index"/> (before <paramref name="end"/>) lie one after another in the same slab, so one map call covers them.</summary>
    private int RunLength(List<DevicePage> pages, int index, int end)
    {
        var first = pages[index];
        var length = 1;
        while (index + length < end
            && pages[index + length].Slab == first.Slab
            && pages[index + length].Offset == first.Offset + (ulong)length * PageBytes)
        {
            length++;
        }
        return length;
    }

    private ulong PagesFor(ulong bytes) => (bytes / PageBytes) + (bytes % PageBytes == 0 ? 0UL : 1UL);

    private void RequireLive(DeviceRange range)
    {
        ThrowIfDisposed();
        RequireOwned(range);
        if (!_ranges.Contains(range))
        {
            throw new ObjectDisposedException(nameof(DeviceRange), $"the range at {range.Start} has been released");
        }
    }

    private void RequireOwned(DeviceRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        if (range.Pool != this)
        {
            throw new ArgumentException("the range belongs to another pool", nameof(range));
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
