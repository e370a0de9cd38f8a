using GpuMux.Linux;

namespace GpuMux.Gpu.Sim;

/// <summary>
/// Device memory of the simulated device. Its addresses are real host virtual addresses, so
/// kernels run on spans, and the virtual-memory calls are real mappings: a reservation is
/// inaccessible address space, physical memory is a stretch of one memory file per device, and
/// mapping it places its pages at a fixed address. Every access by simulated work is checked
/// against <see cref="SimAddressSpace"/> first, so a bad pointer is an error, never a crash.
/// The virtual-memory calls refuse what the driver refuses (see the rule table in
/// docs/design.md), with the status the CUDA backend would report.
/// <para>
/// Work running on the engines holds an access scope; calls that take pages away wait for the
/// scopes to end, so a free cannot pull memory from under a copy in progress.
/// </para>
/// </summary>
internal sealed class SimMemory : IDisposable
{
    // cuMemAlloc hands out memory in units of at least this much.
    private const ulong AllocationUnit = 512;

    private readonly object _gate = new();
    private readonly ulong _capacity;
    private readonly ulong _granularity;
    private readonly SimAddressSpace _accessible = new();
    private readonly Dictionary<ulong, Allocation> _allocations = [];
    private readonly List<Reservation> _reservations = [];
    private readonly List<SimPhysicalBacking> _physical = [];
    private readonly MemoryFile _deviceFile = MemoryFile.Create("gpumux-sim-device", 0);

    // Physical memory takes the next stretch of the file and never reuses one: offsets are free
    // (the file is sparse, and a dead stretch is punched out), so no pattern of frees fragments it.
    private ulong _deviceFileEnd;
    private ulong _used;
    private int _activeAccesses;
    private int _waitingToChange;

    public SimMemory(ulong capacity, ulong granularity)
    {
        _capacity = capacity;
        _granularity = granularity;
    }

    public DeviceMemoryInfo Info
    {
        get
        {
            lock (_gate)
            {
                return new DeviceMemoryInfo(_capacity - _used, _capacity);
            }
        }
    }

    public GpuStatus TryAllocate(ulong bytes, out ulong address)
    {
        address = 0;
        var accounted = RoundUp(bytes, AllocationUnit);
        var mapped = RoundUp(bytes, PageMappings.PageSize);
        lock (_gate)
        {
            if (accounted > _capacity - _used)
            {
                return GpuStatus.OutOfMemory;
            }
            address = (ulong)PageMappings.MapAnonymous((nuint)mapped);
            _allocations.Add(address, new Allocation(mapped, accounted));
            _accessible.Add(address, bytes, writable: true);
            _used += accounted;
            return GpuStatus.Success;
        }
    }

    public void Free(ulong address)
    {
        lock (_gate)
        {
            WaitForNoAccess();
            if (_allocations.Remove(address, out var allocation))
            {
                _accessible.Remove(address, allocation.Mapped);
                PageMappings.Unmap((nint)address, (nuint)allocation.Mapped);
                _used -= allocation.Accounted;
            }
        }
    }

    /// <summary>True when every byte of the range may be accessed, for checks made when work is queued.</summary>
    public bool IsAccessible(DevicePtr pointer, ulong bytes, bool write)
    {
        lock (_gate)
        {
            return _accessible.Covers(pointer.Address, bytes, write);
        }
    }

    /// <summary>Enters a scope in which memory cannot be freed or unmapped. Pair with <see cref="EndAccess"/>.</summary>
    public void BeginAccess()
    {
        lock (_gate)
        {
            // A mapping change waiting for quiet goes first: back-to-back copies would starve it.
            while (_waitingToChange > 0)
            {
                Monitor.Wait(_gate);
            }
            _activeAccesses++;
        }
    }

    public void EndAccess()
    {
        lock (_gate)
        {
            if (--_activeAccesses == 0)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> once no simulated work is touching memory, for frees of host memory the engines may be copying.</summary>
    public void WithoutAccess(Action action)
    {
        lock (_gate)
        {
            WaitForNoAccess();
            action();
        }
    }

    /// <summary>The host address behind a device range, or an illegal-address fault, as a kernel that strays would get.</summary>
    public nint Resolve(DevicePtr pointer, ulong bytes, bool write)
    {
        lock (_gate)
        {
            if (!_accessible.Covers(pointer.Address, bytes, write))
            {
                throw new GpuException(
                    GpuStatus.IllegalAddress,
                    $"illegal address: {(write ? "write" : "read")} of {bytes} bytes at {pointer} touches memory that is not allocated{(write ? " or not writable" : "")}");
            }
            return (nint)pointer.Address;
        }
    }

    public ulong Reserve(ulong bytes)
    {
        lock (_gate)
        {
            var start = (ulong)PageMappings.Reserve((nuint)bytes, (nuint)_granularity);
            _reservations.Add(new Reservation(start, bytes));
            return start;
        }
    }

    public void FreeReservation(ulong start)
    {
        lock (_gate)
        {
            WaitForNoAccess();
            var index = _reservations.FindIndex(r => r.Start == start);
            if (index < 0)
            {
                return;
            }
            var reservation = _reservations[index];
            _reservations.RemoveAt(index);
            foreach (var mapping in reservation.Mappings)
            {
                DropMapping(mapping);
            }
            _accessible.Remove(reservation.Start, reservation.Length);
            PageMappings.Unmap((nint)reservation.Start, (nuint)reservation.Length);
        }
    }

    public GpuStatus TryCreatePhysical(ulong bytes, out SimPhysicalBacking? backing)
    {
        backing = null;
        lock (_gate)
        {
            if (bytes > _capacity - _used)
            {
                return GpuStatus.OutOfMemory;
            }
            _deviceFile.SetLength(_deviceFileEnd + bytes);
            backing = new SimPhysicalBacking(_deviceFileEnd, bytes);
            _deviceFileEnd += bytes;
            _physical.Add(backing);
            _used += bytes;
            return GpuStatus.Success;
        }
    }

    public void ReleasePhysical(SimPhysicalBacking backing)
    {
        lock (_gate)
        {
            if (backing.Released)
            {
                return;
            }
            backing.Released = true;
            ForgetIfDead(backing);
        }
    }

    /// <summary>cuMemMap: from offset 0 of the physical memory, into unmapped addresses of one reservation.</summary>
    public void Map(ulong address, ulong bytes, SimPhysicalBacking backing, ulong offset)
    {
        lock (_gate)
        {
            if (backing.Released)
            {
                throw new GpuException(GpuStatus.InvalidHandle, "physical memory has been released");
            }
            if (offset != 0)
            {
                throw new GpuException(GpuStatus.InvalidValue, $"cannot map from offset {offset} of physical memory: the driver maps from offset 0 only");
            }
            var reservation = ReservationHolding(address, bytes);
            if (reservation.Mappings.Exists(m => m.Start < address + bytes && address < m.Start + m.Length))
            {
                throw new GpuException(GpuStatus.InvalidValue, $"range {new DevicePtr(address)} (+{bytes}) is already mapped");
            }
            PageMappings.MapFileFixed((nint)address, (nuint)bytes, _deviceFile, backing.FileOffset);
            reservation.Mappings.Add(new Mapping(address, bytes, backing));
            backing.Mappings++;
        }
    }

    /// <summary>cuMemSetAccess: on a range that is wholly mapped and holds each mapping it touches whole.</summary>
    public void SetAccess(ulong address, ulong bytes, MemoryAccess access)
    {
        lock (_gate)
        {
            var reservation = ReservationHolding(address, bytes);
            var touched = MappingsTouching(reservation, address, bytes);
            if (touched.Exists(m => !Contains(address, bytes, m)))
            {
                throw new GpuException(GpuStatus.InvalidValue, $"range {new DevicePtr(address)} (+{bytes}) holds part of a mapping: access is set on whole mappings");
            }
            if (touched.Aggregate(0UL, (sum, m) => sum + m.Length) != bytes)
            {
                throw new GpuException(GpuStatus.InvalidValue, $"range {new DevicePtr(address)} (+{bytes}) is not entirely mapped");
            }
            var read = access != MemoryAccess.None;
            var write = access == MemoryAccess.ReadWrite;
            WaitForNoAccess();
            PageMappings.Protect((nint)address, (nuint)bytes, read, write);

            _accessible.Remove(address, bytes);
            if (read)
            {
                _accessible.Add(address, bytes, write);
            }
        }
    }

    /// <summary>cuMemUnmap: exactly the range one cuMemMap mapped, no part of it and no more.</summary>
    public void Unmap(ulong address, ulong bytes)
    {
        lock (_gate)
        {
            var reservation = ReservationHolding(address, bytes);
            var mapping = reservation.Mappings.Find(m => m.Start == address && m.Length == bytes)
                ?? throw new GpuException(GpuStatus.InvalidValue, $"unmapping {new DevicePtr(address)} (+{bytes}) must name the whole range of one mapping");
            WaitForNoAccess();
            reservation.Mappings.Remove(mapping);
            DropMapping(mapping);
            _accessible.Remove(address, bytes);
            PageMappings.ResetToReserved((nint)address, (nuint)bytes);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            WaitForNoAccess();
            foreach (var (address, allocation) in _allocations)
            {
                PageMappings.Unmap((nint)address, (nuint)allocation.Mapped);
            }
            _allocations.Clear();
            foreach (var reservation in _reservations)
            {
                PageMappings.Unmap((nint)reservation.Start, (nuint)reservation.Length);
            }
            _reservations.Clear();
            _physical.Clear();
            _deviceFile.Dispose();
            _used = 0;
        }
    }

    private Reservation ReservationHolding(ulong address, ulong bytes) =>
        _reservations.Find(r => address >= r.Start && address + bytes <= r.Start + r.Length)
        ?? throw new GpuException(GpuStatus.InvalidValue, $"range {new DevicePtr(address)} (+{bytes}) does not lie inside one reserved address range");

    private static List<Mapping> MappingsTouching(Reservation reservation, ulong address, ulong bytes) =>
        reservation.Mappings.FindAll(m => m.Start < address + bytes && address < m.Start + m.Length);

    private static bool Contains(ulong address, ulong bytes, Mapping mapping) =>
        mapping.Start >= address && mapping.Start + mapping.Length <= address + bytes;

    private void DropMapping(Mapping mapping)
    {
        mapping.Backing.Mappings--;
        ForgetIfDead(mapping.Backing);
    }

    private void ForgetIfDead(SimPhysicalBacking backing)
    {
        if (backing.IsDead && _physical.Remove(backing))
        {
            _used -= backing.Length;
            _deviceFile.Discard(backing.FileOffset, backing.Length);
        }
    }

    private void WaitForNoAccess()
    {
        if (_activeAccesses == 0)
        {
            return;
        }
        _waitingToChange++;
        try
        {
            while (_activeAccesses > 0)
            {
                Monitor.Wait(_gate);
            }
        }
        finally
        {
            _waitingToChange--;
            Monitor.PulseAll(_gate);
        }
    }

    private static ulong RoundUp(ulong value, ulong unit) => (value + unit - 1) / unit * unit;

    private readonly record struct Allocation(ulong Mapped, ulong Accounted);

    private sealed record Reservation(ulong Start, ulong Length)
    {
        public List<Mapping> Mappings { get; } = [];
    }

    private sealed record Mapping(ulong Start, ulong Length, SimPhysicalBacking Backing);
}
