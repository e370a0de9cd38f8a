namespace GpuMux.Robustness.Counting;

/// <summary>Durations in milliseconds from many threads, summarised as the median, the 99th percentile and the maximum.</summary>
internal sealed class Latencies
{
    private readonly List<double> _milliseconds = [];

    public void Add(TimeSpan elapsed)
    {
        lock (_milliseconds)
        {
            _milliseconds.Add(elapsed.TotalMilliseconds);
        }
    }

    /// <summary>Null before any sample; the 99th percentile is the nearest rank.</summary>
    public LatencySummary? Summarise()
    {
        double[] sorted;
        lock (_milliseconds)
        {
            sorted = [.. _milliseconds.Order()];
        }

        return sorted.Length == 0
            ? null
            : new LatencySummary(sorted.Length, sorted[sorted.Length / 2], sorted[(int)Math.Ceiling(0.99 * sorted.Length) - 1], sorted[^1]);
    }
}

internal readonly record struct LatencySummary(int Samples, double MedianMs, double P99Ms, double MaxMs);
