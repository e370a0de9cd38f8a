using System.Diagnostics.Metrics;
using GpuMux.Engine;
using GpuMux.Engine.Device;
using GpuMux.Engine.Metrics;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// The daemon's meter, from the host's meter factory (so that it is disposed with the host, and
/// a daemon's Prometheus endpoint reads its own meter even where several hosts share a process),
/// with the instruments of the daemon's own layer: its connections, and how long completions take
/// to leave it.
/// </summary>
internal sealed class DaemonMeter
{
    // From 5 µs, where a completion sent the moment its step ends lies, to the engine's step times.
    private static readonly InstrumentAdvice<double> CompletionSeconds = new()
    {
        HistogramBucketBoundaries = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
    };

    private readonly Counter<long> _accepted;
    private readonly UpDownCounter<long> _open;
    private readonly Histogram<double> _completionDelay;

    public DaemonMeter(IMeterFactory factory)
    {
        Meter = factory.Create(GpuLabels.MeterName);
        _accepted = Meter.CreateCounter<long>("gpumux.connections.accepted", "{connection}", "Connections accepted on the daemon's socket.");
        _open = Meter.CreateUpDownCounter<long>("gpumux.connections.open", "{connection}", "Connections open now, in the handshake or in a session.");
        _completionDelay = Meter.CreateHistogram(
            CompletionDelayName, "s", "Time from a step's end on the device to its completion frame written to the client's socket, by class, for steps that ran.", tags: null, CompletionSeconds);
    }

    public const string CompletionDelayName = "gpumux.completion.delay";

    public Meter Meter { get; }

    public void ConnectionAccepted()
    {
        _accepted.Add(1);
        _open.Add(1);
    }

    public void ConnectionClosed() => _open.Add(-1);

    /// <summary>
    /// Called as soon as a completion's frame has been written. The class name is the engine's own
    /// string, so this allocates nothing.
    /// </summary>
    public void CompletionWritten(in StepCompletion completion)
    {
        if (completion.EndedAtNs <= 0)
        {
            return;
        }
        _completionDelay.Record(Math.Max(0, MonotonicClock.NowNanoseconds() - completion.EndedAtNs) / 1e9, new KeyValuePair<string, object?>("class", completion.ClassName));
    }
}
