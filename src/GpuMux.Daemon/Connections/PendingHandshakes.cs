using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// The connections that have not said Hello yet, oldest first. Only a Hello counts toward
/// <c>Limits:MaxSessions</c>, so these are bounded here: each has <c>Limits:HandshakeTimeoutMs</c>
/// to say it, and at most <c>Limits:MaxPendingHandshakes</c> wait at once. One more closes the
/// oldest rather than the newcomer: a client says Hello as soon as it has connected, so a flood of
/// idle connections then costs its sender its own connections instead of locking everyone out.
/// A connection closed here gets no reply (it has not said which protocol it speaks).
/// </summary>
internal sealed class PendingHandshakes : IDisposable
{
    private readonly int _capacity;
    private readonly TimeSpan _timeout;
    private readonly long _timeoutTicks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly LinkedList<PendingHandshake> _waiting = new();
    private readonly ITimer _expiry;
    private readonly LogThrottle<Closing> _closings;

    public PendingHandshakes(int capacity, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _capacity = capacity;
        _timeout = timeout;
        _timeoutTicks = (long)(timeout.TotalSeconds * time.TimestampFrequency);
        _time = time;
        _logger = logger;
        _expiry = time.CreateTimer(_ => Expire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _closings = new LogThrottle<Closing>(time, Summarize);
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Starts the clock on a new connection's handshake, closing the oldest waiting one if there is no room.</summary>
    public PendingHandshake Admit(FrameConnection connection)
    {
        var handshake = new PendingHandshake(connection, _time.GetTimestamp() + _timeoutTicks);
        PendingHandshake? oldest = null;
        lock (_gate)
        {
            if (_waiting.Count >= _capacity)
            {
                oldest = _waiting.First!.Value;
                _waiting.RemoveFirst();
            }

            _waiting.AddLast(handshake.Node);
            if (_waiting.Count == 1)
            {
                _expiry.Change(_timeout, Timeout.InfiniteTimeSpan);
            }
        }

        if (oldest is not null)
        {
            Close(oldest, Closing.MadeRoom);
        }

        return handshake;
    }

    /// <summary>The connection said Hello, or closed: its clock stops. Idempotent.</summary>
    public void Leave(PendingHandshake handshake)
    {
        lock (_gate)
        {
            if (handshake.Node.List is not null)
            {
                _waiting.Remove(handshake.Node);
            }
        }
    }

    public void Dispose()
    {
        _expiry.Dispose();
        _closings.Dispose();
    }

    private void Expire()
    {
        List<PendingHandshake> expired = [];
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            while (_waiting.First is { } first && first.Value.Deadline <= now)
            {
                expired.Add(first.Value);
                _waiting.RemoveFirst();
            }

            if (_waiting.First is { } next)
            {
                _expiry.Change(_time.GetElapsedTime(now, next.Value.Deadline), Timeout.InfiniteTimeSpan);
            }
        }

        foreach (var handshake in expired)
        {
            Close(handshake, Closing.TimedOut);
        }
    }

    private void Close(PendingHandshake handshake, Closing why)
    {
        var peer = handshake.Connection.Peer;
        if (_closings.ShouldLog(why))
        {
            if (why == Closing.TimedOut)
            {
                PendingHandshakesLog.TimedOut(_logger, peer.Pid, peer.Uid, (long)_timeout.TotalMilliseconds);
            }
            else
            {
                PendingHandshakesLog.MadeRoom(_logger, peer.Pid, peer.Uid, _capacity);
            }
        }

        handshake.Connection.Abort();
    }

    private void Summarize(Closing why, int count)
    {
        var seconds = (int)LogThrottle<Closing>.Interval.TotalSeconds;
        if (why == Closing.TimedOut)
        {
            PendingHandshakesLog.TimedOutHeldBack(_logger, count, (long)_timeout.TotalMilliseconds, seconds);
        }
        else
        {
            PendingHandshakesLog.MadeRoomHeldBack(_logger, count, _capacity, seconds);
        }
    }

    private enum Closing
    {
        TimedOut,
        MadeRoom,
    }
}

/// <summary>One connection waiting for its Hello, until a deadline (a <see cref="TimeProvider"/> timestamp).</summary>
internal sealed class PendingHandshake
{
    public PendingHandshake(FrameConnection connection, long deadline)
    {
        Connection = connection;
        Deadline = deadline;
        Node = new LinkedListNode<PendingHandshake>(this);
    }

    public FrameConnection Connection { get; }

    public long Deadline { get; }

    public LinkedListNode<PendingHandshake> Node { get; }
}

internal static partial class PendingHandshakesLog
{
    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Closed the connection of pid {Pid} uid {Uid}: it did not say Hello within {TimeoutMs} ms (Limits:HandshakeTimeoutMs)")]
    public static partial void TimedOut(ILogger logger, int pid, uint uid, long timeoutMs);

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "Closed {Count} more connections that did not say Hello within {TimeoutMs} ms, over the last {Seconds} s")]
    public static partial void TimedOutHeldBack(ILogger logger, int count, long timeoutMs, int seconds);

    [LoggerMessage(EventId = 312, Level = LogLevel.Warning, Message = "Closed the connection of pid {Pid} uid {Uid}, the oldest of {Capacity} that had not said Hello, to make room for a new one (Limits:MaxPendingHandshakes)")]
    public static partial void MadeRoom(ILogger logger, int pid, uint uid, int capacity);

    [LoggerMessage(EventId = 313, Level = LogLevel.Warning, Message = "Closed {Count} more connections that had not said Hello, the oldest of {Capacity} each time, to make room for new ones, over the last {Seconds} s")]
    public static partial void MadeRoomHeldBack(ILogger logger, int count, int capacity, int seconds);
}
