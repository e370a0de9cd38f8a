using GpuMux.Linux;

namespace GpuMux.Gpu.Sim;

/// <summary>
/// Device memory of the simulated device. Its addresses are real host virtual addresses, so
/// kernels run on spans, and the virtual-memory calls are real mappings: a reservation is
/// inaccessible address space, physical memory is a memory file, and mapping it places its
/// pages at a fixed address. Every access by simulated work is checked against
/// <see cref="SimAddressSpace"/> first, so a bad pointer is an error, never a crash.
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
            backing = new SimPhysicalBacking(MemoryFile.Create("gpumux-sim-physical", bytes), bytes);
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

    public void Map(ulong address, ulong bytes, SimPhysicalBacking backing, ulong offset)
    {
        lock (_gate)
        {
            if (backing.Released)
            {
                throw new GpuException(GpuStatus.InvalidHandle, "physical memory has been released");
            }
            var reservation = ReservationHolding(address, bytes);
            if (reservation.Mappings.Exists(m => m.Start < address + bytes && address < m.Start + m.Length))
            {
                throw new GpuException(GpuStatus.InvalidValue, $"range {new DevicePtr(address)} (+{bytes}) is already mapped");
            }
            PageMappings.MapFileFixed((nint)address, (nuint)bytes, backing.File, offset);
            reservation.Mappings.Add(new Mapping(address, bytes, backing));
            backing.Mappings++;
        }
    }

    public void SetAccess(ulong address, ulong bytes, MemoryAccess access)
    {
        lock (_gate)
        {
            var reservation = ReservationHolding(address, bytes);
            if (MappedBytesWithin(reservation, address, bytes) != bytes)
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

    public void Unmap(ulong address, ulong bytes)
    {
        lock (_gate)
        {
            var reservation = ReservationHolding(address, bytes);
            var end = address + bytes;
            var inside = reservation.Mappings.FindAll(m => m.Start < end && address < m.Start + m.Length);
            if (inside.Count == 0 || inside.Exists(m => m.Start < address || m.Start + m.Length > end))
            {
                throw new GpuException(GpuStatus.InvalidValue, $"unmapping {new DevicePtr(address)} (+{bytes}) must cover whole mappings");
            }
            WaitForNoAccess();
            foreach (var mapping in inside)
            {
                reservation.Mappings.Remove(mapping);
                DropMapping(mapping);
            }
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
            foreach (var backing in _physical)
            {
                backing.File.Dispose();
            }
            _physical.Clear();
            _used = 0;
        }
    }

    private Reservation ReservationHolding(ulong address, ulong bytes) =>
        _reservations.Find(r => address >= r.Start && address + bytes <= r.Start + r.Length)
        ?? throw new GpuException(GpuStatus.InvalidValue, $"range {new DevicePtr(address)} (+{bytes}) does not lie inside one reserved address range");

    private static ulong MappedBytesWithin(Reservation reservation, ulong address, ulong bytes)
    {
        var end = address + bytes;
        ulong covered = 0;
        foreach (var mapping in reservation.Mappings)
        {
            var from = Math.Max(address, mapping.Start);
            var to = Math.Min(end, mapping.Start + mapping.Length);
            if (to > from)
            {
                covered += to - from;
            }
        }
        return covered;
    }

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
            backing.File.Dispose();
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
