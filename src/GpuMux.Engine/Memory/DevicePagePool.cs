using GpuMux.Gpu;

namespace GpuMux.Engine.Memory;

/// <summary>
/// The daemon's share of device memory, taken once when the engine starts as pages of one size,
/// each its own physical allocation (one <c>cuMemCreate</c>), handed out by mapping whole pages
/// side by side into reserved virtual ranges. The driver maps physical memory from its start
/// only (<c>cuMemMap</c>'s offset "currently must be zero"), so a page is never cut up; a range
/// is contiguous in virtual space whatever pages back it, so no pattern of frees can strand
/// memory. The page size trades the driver calls of a swap-in (one map and one unmap per page)
/// against the memory a small buffer or a model's last page leaves unused. Like everything on a
/// context, use it from the context's thread.
/// <para>
/// Device memory does not survive a context: after a device fault the pool is disposed and a new
/// one built on the new context.
/// </para>
/// </summary>
internal sealed class DevicePagePool : IDisposable
{
    private readonly GpuContext _context;
    private readonly PhysicalMemory[] _pages;
    private readonly Stack<PhysicalMemory> _free;
    private readonly HashSet<DeviceRange> _ranges = [];
    private long _maps;
    private long _accessChanges;
    private long _unmaps;
    private bool _disposed;

    /// <summary>
    /// Takes <paramref name="budgetBytes"/>, rounded down to whole pages, from the device as pages of
    /// <paramref name="pageBytes"/> rounded up to the device's allocation granularity (0: the
    /// granularity itself), or throws a <see cref="GpuException"/> saying how much the device could give.
    /// </summary>
    public DevicePagePool(GpuContext context, ulong budgetBytes, ulong pageBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        var granularity = context.AllocationGranularity;
        PageBytes = Math.Max(1, checked(pageBytes + granularity - 1) / granularity) * granularity;
        BudgetBytes = budgetBytes / PageBytes * PageBytes;
        _pages = CreatePages(context, BudgetBytes, PageBytes);
        // Pushed last page first, so that a fresh pool hands them out in the order they were made.
        _free = new Stack<PhysicalMemory>(_pages.Reverse());
    }

    public ulong PageBytes { get; }

    public ulong BudgetBytes { get; }

    public ulong FreeBytes => (ulong)_free.Count * PageBytes;

    public ulong UsedBytes => BudgetBytes - FreeBytes;

    /// <summary>How many map, access and unmap calls the pool has made of the driver.</summary>
    public MappingCalls Calls => new(_maps, _accessChanges, _unmaps);

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
    /// Maps free pages into all of <paramref name="range"/>, one after another, and makes it
    /// read-write; false, with nothing mapped, when there are not enough free pages.
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
        UnmapPages(range, range.HeldPages.Count);
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
        foreach (var page in _pages)
        {
            page.Dispose();
        }
    }

    private static PhysicalMemory[] CreatePages(GpuContext context, ulong budget, ulong pageBytes)
    {
        var pages = new List<PhysicalMemory>(checked((int)(budget / pageBytes)));
        try
        {
            while ((ulong)pages.Count * pageBytes < budget)
            {
                var status = context.TryCreatePhysicalMemory(pageBytes, out var page);
                if (status != GpuStatus.Success)
                {
                    throw new GpuException(
                        status,
                        $"cannot take {budget} bytes of device memory for the page pool: the device gave {(ulong)pages.Count * pageBytes} bytes ({pages.Count} pages of {pageBytes}) and then refused another with {status}");
                }
                pages.Add(page!);
            }
            return [.. pages];
        }
        catch
        {
            foreach (var page in pages)
            {
                page.Dispose();
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
            for (; mapped < pages.Count; mapped++)
            {
                _context.Map(PageAddress(range, mapped), PageBytes, pages[mapped]);
                _maps++;
            }
            // Once for the whole range: access is set across mappings, and one call is one driver round trip.
            _context.SetAccess(range.Start, range.MappedBytes, MemoryAccess.ReadWrite);
            _accessChanges++;
        }
        catch
        {
            ReturnPages(range, reusable: TryUnmapPages(range, mapped));
            throw;
        }
    }

    /// <summary>Unmaps the first <paramref name="pageCount"/> pages of the range, one driver call each: an unmap takes exactly one mapping.</summary>
    private void UnmapPages(DeviceRange range, int pageCount)
    {
        for (var i = 0; i < pageCount; i++)
        {
            _context.Unmap(PageAddress(range, i), PageBytes);
            _unmaps++;
        }
    }

    private bool TryUnmapPages(DeviceRange range, int pageCount)
    {
        try
        {
            UnmapPages(range, pageCount);
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
            ReturnPages(range, reusable: TryUnmapPages(range, range.HeldPages.Count));
        }
        range.Reservation.Dispose();
    }

    private void ReturnPages(DeviceRange range, bool reusable)
    {
        var pages = range.HeldPages;
        if (reusable)
        {
            // Last page first, so the next range to take them maps them in the same order.
            for (var i = pages.Count - 1; i >= 0; i--)
            {
                _free.Push(pages[i]);
            }
        }
        pages.Clear();
    }

    private DevicePtr PageAddress(DeviceRange range, int index) => range.Start + ((ulong)index * PageBytes);

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

/// <summary>Driver calls the page pool has made: maps (one per page), access changes (one per mapped range) and unmaps (one per page).</summary>
internal readonly record struct MappingCalls(long Maps, long AccessChanges, long Unmaps);
