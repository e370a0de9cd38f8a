namespace GpuMux.Gpu.Sim;

/// <summary>
/// Host ranges the simulated device treats as pinned (allocated pinned, or registered), which
/// decides the bandwidth a copy gets, as it does on hardware.
/// </summary>
internal sealed class SimPinnedRanges
{
    private readonly Lock _gate = new();
    private readonly SimAddressSpace _ranges = new();
    private readonly List<(ulong Start, ulong Length)> _registered = [];

    public GpuStatus TryAdd(nint address, ulong bytes)
    {
        var start = (ulong)address;
        lock (_gate)
        {
            if (_registered.Exists(r => r.Start < start + bytes && start < r.Start + r.Length))
            {
                return GpuStatus.HostMemoryAlreadyRegistered;
            }
            _registered.Add((start, bytes));
            _ranges.Add(start, bytes, writable: true);
            return GpuStatus.Success;
        }
    }

    public void Remove(nint address)
    {
        var start = (ulong)address;
        lock (_gate)
        {
            var index = _registered.FindIndex(r => r.Start == start);
            if (index >= 0)
            {
                _ranges.Remove(start, _registered[index].Length);
                _registered.RemoveAt(index);
            }
        }
    }

    public bool IsPinned(nint address, ulong bytes)
    {
        lock (_gate)
        {
            return _ranges.Covers((ulong)address, bytes, write: false);
        }
    }
}
