namespace GpuMux.Client;

/// <summary>
/// The requests sent and not yet answered, by request id, with a pool of their waits. Once the
/// connection is lost, every wait fails with that, and so does every later <see cref="Add"/>.
/// A plain dictionary and stack under one lock: unlike the concurrent collections, they allocate
/// nothing once they have grown to the number of requests in flight.
/// </summary>
internal sealed class PendingRequests
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, PendingReply> _waiting = [];
    private readonly Stack<PendingReply> _pool = new();
    private GpuMuxConnectionException? _failure;
    private int _nextRequestId;

    public uint NextRequestId() => unchecked((uint)Interlocked.Increment(ref _nextRequestId));

    /// <summary>
    /// A wait for the reply to <paramref name="requestId"/>, added before the request is sent so that
    /// no reply can beat it, with what to do with the frames that come before the reply, if any.
    /// </summary>
    public PendingReply Add(uint requestId, Action<ReplyFrame>? interim = null)
    {
        lock (_lock)
        {
            ThrowIfFailed();
            if (!_pool.TryPop(out var pending))
            {
                pending = new PendingReply(this);
            }

            pending.RequestId = requestId;
            pending.Interim = interim;
            _waiting.Add(requestId, pending);
            return pending;
        }
    }

    /// <summary>Takes the wait out of the table; the caller, and nobody else, then completes it.</summary>
    public bool TryRemove(PendingReply pending)
    {
        lock (_lock)
        {
            return _waiting.TryGetValue(pending.RequestId, out var current) && current == pending && _waiting.Remove(pending.RequestId);
        }
    }

    /// <summary>Hands a reply to its wait; false when nobody waits any more (the wait was cancelled).</summary>
    public bool TryComplete(uint requestId, ReplyFrame reply)
    {
        PendingReply? pending;
        lock (_lock)
        {
            if (!_waiting.Remove(requestId, out pending))
            {
                return false;
            }
        }

        pending.SetResult(reply);
        return true;
    }

    /// <summary>
    /// Hands a frame that precedes the reply to its request, which keeps waiting; false when nobody
    /// waits any more or the request takes no such frames. The receive loop calls this and
    /// <see cref="TryComplete"/> in the order the frames arrive, so they reach the request in that order.
    /// </summary>
    public bool TryDeliverInterim(uint requestId, ReplyFrame frame)
    {
        Action<ReplyFrame>? interim;
        lock (_lock)
        {
            // Read under the lock: once the wait is removed it may be recycled for another request.
            interim = _waiting.TryGetValue(requestId, out var pending) ? pending.Interim : null;
        }

        if (interim is null)
        {
            return false;
        }

        interim(frame);
        return true;
    }

    /// <summary>Fails every wait, now and later; the first failure is the one reported.</summary>
    public void Fail(GpuMuxConnectionException failure)
    {
        PendingReply[] failed;
        lock (_lock)
        {
            _failure ??= failure;
            failure = _failure;
            failed = [.. _waiting.Values];
            _waiting.Clear();
        }

        foreach (var pending in failed)
        {
            pending.SetException(CopyOf(failure));
        }
    }

    /// <summary>Recycles a wait whose result has been read.</summary>
    public void Return(PendingReply pending)
    {
        pending.Reset();
        lock (_lock)
        {
            _pool.Push(pending);
        }
    }

    public void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw CopyOf(failure);
        }
    }

    // One exception object per waiter: a thrown exception collects its thrower's stack trace.
    private static GpuMuxConnectionException CopyOf(GpuMuxConnectionException failure) =>
        new(failure.Message, failure.InnerException);
}
