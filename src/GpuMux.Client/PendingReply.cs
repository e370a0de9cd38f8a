using System.Threading.Tasks.Sources;
using GpuMux.Protocol;

namespace GpuMux.Client;

/// <summary>
/// The wait for one reply, kept in <see cref="PendingRequests"/> by request id: the receive loop
/// completes it with the reply, a cancellation with an <see cref="OperationCanceledException"/>,
/// a lost connection with its exception. Whoever takes it out of the table completes it, so exactly
/// one of them does. Reused: a wait goes back to its pool once its result has been read.
/// </summary>
internal abstract class PendingReply(PendingRequests owner)
{
    private static readonly Action<object?, CancellationToken> CancelCallback =
        static (state, token) => ((PendingReply)state!).Cancel(token);

    public uint RequestId { get; set; }

    protected PendingRequests Owner => owner;

    /// <summary>
    /// Completes the wait with the frame that answers the request, read on the receive loop from the
    /// connection's own buffer, which is reused once this returns.
    /// </summary>
    /// <exception cref="Protocol.Framing.MalformedPayloadException">The frame cannot be read; the wait is left for the caller to fail.</exception>
    public abstract void Complete(MessageType type, ReadOnlySpan<byte> payload, long receivedAtNs);

    public abstract void Fail(Exception exception);

    /// <summary>Readies the wait for its next request; only once its result has been read.</summary>
    public abstract void Reset();

    /// <summary>
    /// Cancels the wait when <paramref name="cancellationToken"/> fires. Dispose the registration
    /// before the wait is recycled, so that a late callback cannot reach its next use.
    /// </summary>
    public CancellationTokenRegistration CancelOn(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(CancelCallback, this) : default;

    private void Cancel(CancellationToken cancellationToken)
    {
        if (owner.TryRemove(this))
        {
            Fail(new OperationCanceledException(cancellationToken));
        }
    }
}

/// <summary>A wait on any request, and its caller's way to the reply: a copy of the frame, for the caller to decode.</summary>
internal sealed class RequestReply(PendingRequests owner) : PendingReply(owner), IValueTaskSource<ReplyFrame>
{
    // Continuations run on the thread pool: the receive loop must not run callers' code inline.
    private ManualResetValueTaskSourceCore<ReplyFrame> _core = new() { RunContinuationsAsynchronously = true };

    /// <summary>
    /// Takes the frames that answer the request before its reply does (ModelProgress); null for a
    /// request that gets none. It runs on the receive loop, owns the frame it is given, and must not block.
    /// </summary>
    public Action<ReplyFrame>? Interim { get; set; }

    public ValueTask<ReplyFrame> Reply => new(this, _core.Version);

    public override void Complete(MessageType type, ReadOnlySpan<byte> payload, long receivedAtNs) =>
        _core.SetResult(ReplyFrame.Copy(type, payload, receivedAtNs));

    public override void Fail(Exception exception) => _core.SetException(exception);

    public override void Reset()
    {
        Interim = null;
        _core.Reset();
    }

    public ReplyFrame GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
