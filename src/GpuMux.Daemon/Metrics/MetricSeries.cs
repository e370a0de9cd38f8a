using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace GpuMux.Daemon.Metrics;

/// <summary>How a series is exposed: a sum that only grows, a value that goes up and down, or a histogram.</summary>
internal enum SeriesKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>
/// One instrument's aggregated values, a cell per label set: sums for counters, the last value
/// for observed gauges and counters, bucket counts and a sum for histograms. Measurements are
/// added with interlocked operations, from any thread, without a lock.
/// </summary>
internal sealed class MetricSeries
{
    private readonly ConcurrentDictionary<LabelSet, Cell> _cells = new();

    public MetricSeries(Instrument instrument)
    {
        Instrument = instrument;
        Kind = instrument switch
        {
            Histogram<double> or Histogram<long> or Histogram<int> => SeriesKind.Histogram,
            Counter<long> or Counter<double> or Counter<int> or ObservableCounter<long> or ObservableCounter<double> or ObservableCounter<int> => SeriesKind.Counter,
            _ => SeriesKind.Gauge,
        };
        Bounds = instrument switch
        {
            Histogram<double> histogram => histogram.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<long> histogram => histogram.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            _ => null,
        } ?? (Kind == SeriesKind.Histogram ? DefaultBounds : []);
    }

    // OpenTelemetry's default boundaries, for a histogram that advises none.
    private static double[] DefaultBounds { get; } = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    public Instrument Instrument { get; }

    public SeriesKind Kind { get; }

    public IReadOnlyList<double> Bounds { get; }

    /// <summary>Observed instruments report their whole value at each collection, so each starts from nothing.</summary>
    public bool IsObserved => Instrument.IsObservable;

    public IEnumerable<KeyValuePair<LabelSet, Cell>> Cells => _cells;

    public void Clear() => _cells.Clear();

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var cell = _cells.GetOrAdd(LabelSet.Of(tags), static (_, series) => new Cell(series.Bounds.Count), this);
        if (Kind == SeriesKind.Histogram)
        {
            cell.Observe(value, Bounds);
        }
        else if (IsObserved)
        {
            cell.Set(value);
        }
        else
        {
            cell.Add(value);
        }
    }

    internal sealed class Cell(int bounds)
    {
        private readonly long[] _buckets = new long[bounds + 1];
        private double _value;

        public double Value => Volatile.Read(ref _value);

        /// <summary>Observations in one bucket alone (not cumulative); the last bucket is past every bound.</summary>
        public long BucketAt(int index) => Volatile.Read(ref _buckets[index]);

        public void Add(double value)
        {
            var current = Volatile.Read(ref _value);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _value, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }
                current = seen;
            }
        }

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Observe(double value, IReadOnlyList<double> bounds)
        {
            var bucket = 0;
            while (bucket < bounds.Count && value > bounds[bucket])
            {
                bucket++;
            }
            Interlocked.Increment(ref _buckets[bucket]);
            Add(value);
        }
    }
}
