namespace GpuMux.Engine.Tenants;

/// <summary>
/// Device time over the last 24 hours, in 96 quarter-hour buckets: usage leaves the window a
/// quarter-hour at a time, so a tenant over its daily limit knows when it will be under again.
/// </summary>
internal sealed class RollingDay
{
    private const int Buckets = 96;
    private static readonly long BucketNs = TimeSpan.FromMinutes(15).Ticks * 100;

    private readonly long[] _ns = new long[Buckets];
    private readonly long[] _quarter = new long[Buckets];

    public void Add(long gpuNs, long nowNs)
    {
        var quarter = nowNs / BucketNs;
        var slot = (int)(quarter % Buckets);
        if (_quarter[slot] != quarter)
        {
            _quarter[slot] = quarter;
            _ns[slot] = 0;
        }
        _ns[slot] += gpuNs;
    }

    public long TotalNs(long nowNs)
    {
        var oldest = (nowNs / BucketNs) - Buckets + 1;
        long total = 0;
        for (var slot = 0; slot < Buckets; slot++)
        {
            if (_quarter[slot] >= oldest)
            {
                total += _ns[slot];
            }
        }
        return total;
    }

    /// <summary>When the oldest usage still counted leaves the window, on the monotonic clock; null when nothing is counted.</summary>
    public long? OldestLeavesAtNs(long nowNs)
    {
        var oldest = (nowNs / BucketNs) - Buckets + 1;
        long? first = null;
        for (var slot = 0; slot < Buckets; slot++)
        {
            if (_quarter[slot] >= oldest && _ns[slot] > 0 && (first is null || _quarter[slot] < first))
            {
                first = _quarter[slot];
            }
        }
        return first is { } quarter ? (quarter + Buckets) * BucketNs : null;
    }
}
