using GpuMux.Protocol;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// What a client's own misbehaviour makes the daemon log at warning or above (a stream it broke, a
/// request the daemon failed on), held back per peer process (pid and uid), so that a client that
/// fuzzes the socket cannot fill the journal: the first of a run is logged whole, the rest are
/// counted and summed up once per <see cref="LogThrottle{TKey}.Interval"/>.
/// </summary>
internal sealed class PeerWarnings(ILogger logger, TimeProvider time) : IDisposable
{
    private readonly LogThrottle<Peer> _violations = new(time, (peer, count) =>
        ConnectionLog.ViolationsHeldBack(logger, count, peer.Pid, peer.Uid, (int)LogThrottle<Peer>.Interval.TotalSeconds));

    private readonly LogThrottle<Peer> _failures = new(time, (peer, count) =>
        ConnectionLog.FailuresHeldBack(logger, count, peer.Pid, peer.Uid, (int)LogThrottle<Peer>.Interval.TotalSeconds));

    public void ProtocolViolation(PeerCredentials peer, string reason)
    {
        if (_violations.ShouldLog(new(peer.Pid, peer.Uid)))
        {
            ConnectionLog.ProtocolViolation(logger, peer.Pid, peer.Uid, reason);
        }
    }

    public void Unexpected(PeerCredentials peer, MessageType type, Exception exception)
    {
        if (_failures.ShouldLog(new(peer.Pid, peer.Uid)))
        {
            ConnectionLog.Unexpected(logger, type, peer.Pid, peer.Uid, exception);
        }
    }

    public void Dispose()
    {
        _violations.Dispose();
        _failures.Dispose();
    }

    private readonly record struct Peer(int Pid, uint Uid);
}
