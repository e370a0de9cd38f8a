using System.Diagnostics.Metrics;
using GpuMux.Engine.Metrics;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// The daemon's meter, from the host's meter factory (so that it is disposed with the host, and
/// a daemon's Prometheus endpoint reads its own meter even where several hosts share a process),
/// with the instruments of the daemon's own layer: its connections.
/// </summary>
internal sealed class DaemonMeter
{
    private readonly Counter<long> _accepted;
    private readonly UpDownCounter<long> _open;

    public DaemonMeter(IMeterFactory factory)
    {
        Meter = factory.Create(GpuLabels.MeterName);
        _accepted = Meter.CreateCounter<long>("gpumux.connections.accepted", "{connection}", "Connections accepted on the daemon's socket.");
        _open = Meter.CreateUpDownCounter<long>("gpumux.connections.open", "{connection}", "Connections open now, in the handshake or in a session.");
    }

    public Meter Meter { get; }

    public void ConnectionAccepted()
    {
        _accepted.Add(1);
        _open.Add(1);
    }

    public void ConnectionClosed() => _open.Add(-1);
}
