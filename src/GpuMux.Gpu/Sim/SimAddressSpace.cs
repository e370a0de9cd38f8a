namespace GpuMux.Gpu.Sim;

/// <summary>
/// Which simulated device addresses may be read or written: a sorted list of non-overlapping
/// ranges. Adjacent ranges count as one, so an access may run across two mappings that are
/// contiguous in virtual space, as it may on a real device. Not thread-safe: the owner locks.
/// </summary>
internal sealed class SimAddressSpace
{
    private readonly List<Range> _ranges = [];

    public void Add(ulong start, ulong length, bool writable)
    {
        Remove(start, length);
        var index = _ranges.FindIndex(r => r.Start > start);
        _ranges.Insert(index < 0 ? _ranges.Count : index, new Range(start, start + length, writable));
    }

    /// <summary>Removes <c>[start, start + length)</c>, splitting any range it cuts through.</summary>
    public void Remove(ulong start, ulong length)
    {
        var end = start + length;
        for (var i = 0; i < _ranges.Count; i++)
        {
            var range = _ranges[i];
            if (range.End <= start || range.Start >= end)
            {
                continue;
            }
            _ranges.RemoveAt(i);
            if (range.End > end)
            {
                _ranges.Insert(i, range with { Start = end });
            }
            if (range.Start < start)
            {
                _ranges.Insert(i, range with { End = start });
                i++;
            }
            i--;
        }
    }

    public bool Covers(ulong start, ulong length, bool write)
    {
        if (length == 0)
        {
            return true;
        }
        var end = start + length;
        if (end < start)
        {
            return false;
        }
        var index = FloorIndex(start);
        var position = start;
        while (index >= 0 && index < _ranges.Count)
        {
            var range = _ranges[index];
            if (range.Start > position || range.End <= position || (write && !range.Writable))
            {
                return false;
            }
            position = range.End;
            if (position >= end)
            {
                return true;
            }
            index++;
        }
        return false;
    }

    private int FloorIndex(ulong address)
    {
        int low = 0, high = _ranges.Count - 1, found = -1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (_ranges[middle].Start <= address)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return found;
    }

    private readonly record struct Range(ulong Start, ulong End, bool Writable);
}
