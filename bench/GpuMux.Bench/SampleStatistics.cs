namespace GpuMux.Bench;

/// <summary>The median, the extremes and the 99th percentile (nearest rank: the smallest sample with at least 99% of them at or below it).</summary>
internal readonly record struct SampleStatistics(double Median, double Min, double Max, double P99)
{
    public static SampleStatistics Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("no samples", nameof(samples));
        }
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        var p99 = sorted[(int)Math.Ceiling(0.99 * sorted.Length) - 1];
        return new SampleStatistics(median, sorted[0], sorted[^1], p99);
    }
}
