namespace GpuMux.Engine.Tenants;

/// <summary>
/// Queueing delays in logarithmic buckets, eight to each doubling from 1 µs up, so a percentile
/// is known within 9% with a fixed 1 KiB per account, however many steps it counts.
/// </summary>
internal sealed class DelayHistogram
{
    private const int BucketsPerDoubling = 8;
    private const int Doublings = 32;

    private readonly long[] _counts = new long[(BucketsPerDoubling * Doublings) + 1];
    private long _total;

    public void Add(long delayNs)
    {
        _counts[BucketOf(delayNs)]++;
        _total++;
    }

    /// <summary>The delay below which <paramref name="fraction"/> of those counted lie, in milliseconds; null before any.</summary>
    public double? PercentileMilliseconds(double fraction)
    {
        if (_total == 0)
        {
            return null;
        }
        var rank = (long)Math.Ceiling(fraction * _total);
        long seen = 0;
        for (var bucket = 0; bucket < _counts.Length; bucket++)
        {
            seen += _counts[bucket];
            if (seen >= Math.Max(rank, 1))
            {
                return UpperBoundNs(bucket) / 1e6;
            }
        }
        return UpperBoundNs(_counts.Length - 1) / 1e6;
    }

    private static int BucketOf(long delayNs)
    {
        var micros = delayNs / 1e3;
        if (micros <= 1)
        {
            return 0;
        }
        var bucket = (int)Math.Ceiling(Math.Log2(micros) * BucketsPerDoubling);
        return Math.Clamp(bucket, 0, BucketsPerDoubling * Doublings);
    }

    private static double UpperBoundNs(int bucket) => Math.Pow(2, (double)bucket / BucketsPerDoubling) * 1e3;
}
