using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// Listens to the instruments of one meter (this daemon's, compared by reference, so a process
/// that hosts several daemons reports each one's own) and keeps their values for the Prometheus
/// endpoint. The listener's callbacks run on the thread that records, the engine thread among
/// them: they find the series and add to it, without a lock or an allocation once a label set
/// has been seen.
/// </summary>
internal sealed class MetricsAggregator : IDisposable
{
    private readonly ConcurrentDictionary<Instrument, MetricSeries> _series = new();
    private readonly MeterListener _listener = new();
    private readonly Lock _collecting = new();

    public MetricsAggregator(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument, _series.GetOrAdd(instrument, static i => new MetricSeries(i)));
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _series.TryRemove(instrument, out MetricSeries? _);
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricSeries)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Hands every series to <paramref name="read"/>, observed instruments read afresh; one collection at a time, so none is cleared while it is read.</summary>
    public T Collect<T>(Func<IReadOnlyList<MetricSeries>, T> read)
    {
        lock (_collecting)
        {
            foreach (var series in _series.Values)
            {
                if (series.IsObserved)
                {
                    series.Clear();
                }
            }
            _listener.RecordObservableInstruments();
            return read([.. _series.Values.OrderBy(s => s.Instrument.Name, StringComparer.Ordinal)]);
        }
    }

    public void Dispose() => _listener.Dispose();
}
