using GpuMux.Protocol;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// What a client's own misbehaviour, or the daemon's limits, make the daemon log at warning or above
/// (a stream it broke, a request the daemon failed on, a session refused at the limit), held back
/// per peer process (pid and uid), so that a client that fuzzes the socket or retries in a loop
/// cannot fill the journal: the first of a run is logged whole, the rest are counted and summed up
/// once per <see cref="LogThrottle{TKey}.Interval"/>.
/// </summary>
internal sealed class PeerWarnings(ILogger logger, TimeProvider time) : IDisposable
{
    private readonly LogThrottle<Peer> _violations = new(time, (peer, count) =>
        ConnectionLog.ViolationsHeldBack(logger, count, peer.Pid, peer.Uid, (int)LogThrottle<Peer>.Interval.TotalSeconds));

    private readonly LogThrottle<Peer> _failures = new(time, (peer, count) =>
        ConnectionLog.FailuresHeldBack(logger, count, peer.Pid, peer.Uid, (int)LogThrottle<Peer>.Interval.TotalSeconds));

    private readonly LogThrottle<Peer> _refusals = new(time, (peer, count) =>
        ConnectionLog.RefusalsHeldBack(logger, count, peer.Pid, peer.Uid, (int)LogThrottle<Peer>.Interval.TotalSeconds));

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

    /// <param name="limit">Which limit, as the refusal states it: "its limit of 256 sessions (Limits:MaxSessions)".</param>
    public void SessionRefused(PeerCredentials peer, string limit)
    {
        if (_refusals.ShouldLog(new(peer.Pid, peer.Uid)))
        {
            ConnectionLog.SessionRefused(logger, peer.Pid, peer.Uid, limit);
        }
    }

    public void Dispose()
    {
        _violations.Dispose();
        _failures.Dispose();
        _refusals.Dispose();
    }

    private readonly record struct Peer(int Pid, uint Uid);
}
