namespace GpuMux.Client;

/// <summary>
/// The requests sent and not yet answered, by request id, with pools of their waits. Once the
/// connection is lost, every wait fails with that, and so does every later add.
/// A plain dictionary and stacks under one lock: unlike the concurrent collections, they allocate
/// nothing once they have grown to the number of requests in flight.
/// </summary>
internal sealed class PendingRequests
{
    private static readonly Func<PendingRequests, RequestReply> NewRequestReply = static owner => new RequestReply(owner);
    private static readonly Func<PendingRequests, StepReply> NewStepReply = static owner => new StepReply(owner);

    private readonly Lock _lock = new();
    private readonly Dictionary<uint, PendingReply> _waiting = [];
    private readonly Stack<RequestReply> _requestPool = new();
    private readonly Stack<StepReply> _stepPool = new();
    private GpuMuxConnectionException? _failure;
    private int _nextRequestId;

    public uint NextRequestId() => unchecked((uint)Interlocked.Increment(ref _nextRequestId));

    /// <summary>
    /// A wait for the reply to <paramref name="requestId"/>, added before the request is sent so that
    /// no reply can beat it, with what to do with the frames that come before the reply, if any.
    /// </summary>
    public RequestReply Add(uint requestId, Action<ReplyFrame>? interim = null)
    {
        lock (_lock)
        {
            var pending = Add(_requestPool, NewRequestReply, requestId);
            pending.Interim = interim;
            return pending;
        }
    }

    /// <summary>A step in flight, with a frame buffer for <paramref name="frameLength"/> bytes, waiting for the completion of <paramref name="requestId"/>; added before the step is sent.</summary>
    public StepReply AddStep(uint requestId, int frameLength)
    {
        lock (_lock)
        {
            var pending = Add(_stepPool, NewStepReply, requestId);
            pending.Start(frameLength);
            return pending;
        }
    }

    /// <summary>Takes back a step that was never sent.</summary>
    public void Abandon(StepReply pending)
    {
        // One that a lost connection has already failed is left to the collector.
        if (TryRemove(pending))
        {
            Return(pending);
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

    /// <summary>Takes the wait for <paramref name="requestId"/> out of the table, for the caller to complete; false when nobody waits any more (the wait was cancelled).</summary>
    public bool TryTake(uint requestId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PendingReply? pending)
    {
        lock (_lock)
        {
            return _waiting.Remove(requestId, out pending);
        }
    }

    /// <summary>
    /// Hands a frame that precedes the reply to its request, which keeps waiting; false when nobody
    /// waits any more or the request takes no such frames. The receive loop calls this and
    /// <see cref="TryTake"/> in the order the frames arrive, so they reach the request in that order.
    /// </summary>
    public bool TryDeliverInterim(uint requestId, ReplyFrame frame)
    {
        Action<ReplyFrame>? interim;
        lock (_lock)
        {
            // Read under the lock: once the wait is removed it may be recycled for another request.
            interim = _waiting.TryGetValue(requestId, out var pending) && pending is RequestReply request ? request.Interim : null;
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
            failed = [.. _waiting.Values];
            _waiting.Clear();
        }

        foreach (var pending in failed)
        {
            FailLost(pending);
        }
    }

    /// <summary>Fails a wait already taken out of the table with the connection's loss; call it once the connection is lost.</summary>
    public void FailLost(PendingReply pending) => pending.Fail(CopyOf(Volatile.Read(ref _failure)!));

    /// <summary>Recycles a wait whose result has been read.</summary>
    public void Return(RequestReply pending) => Recycle(_requestPool, pending);

    /// <inheritdoc cref="Return(RequestReply)"/>
    public void Return(StepReply pending) => Recycle(_stepPool, pending);

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

    private T Add<T>(Stack<T> pool, Func<PendingRequests, T> create, uint requestId)
        where T : PendingReply
    {
        ThrowIfFailed();
        if (!pool.TryPop(out var pending))
        {
            pending = create(this);
        }

        pending.RequestId = requestId;
        _waiting.Add(requestId, pending);
        return pending;
    }

    private void Recycle<T>(Stack<T> pool, T pending)
        where T : PendingReply
    {
        pending.Reset();
        lock (_lock)
        {
            pool.Push(pending);
        }
    }
}
