using System.Threading.Tasks.Sources;

namespace GpuMux.Client;

/// <summary>
/// The wait for one reply: a reusable value-task source that the receive loop completes with the
/// reply, a cancellation with an <see cref="OperationCanceledException"/>, or a lost connection
/// with its exception. Whoever removes it from <see cref="PendingRequests"/> completes it, so
/// exactly one of them does.
/// </summary>
internal sealed class PendingReply(PendingRequests owner) : IValueTaskSource<ReplyFrame>
{
    private static readonly Action<object?, CancellationToken> CancelCallback =
        static (state, token) => ((PendingReply)state!).Cancel(token);

    // Continuations run on the thread pool: the receive loop must not run callers' code inline.
    private ManualResetValueTaskSourceCore<ReplyFrame> _core = new() { RunContinuationsAsynchronously = true };

    public uint RequestId { get; set; }

    /// <summary>
    /// Takes the frames that answer the request before its reply does (ModelProgress); null for a
    /// request that gets none. It runs on the receive loop, owns the frame it is given, and must not block.
    /// </summary>
    public Action<ReplyFrame>? Interim { get; set; }

    public ValueTask<ReplyFrame> Reply => new(this, _core.Version);

    /// <summary>
    /// Cancels the wait when <paramref name="cancellationToken"/> fires. Dispose the registration
    /// before <see cref="PendingRequests.Return"/>, so that a late callback cannot reach the next use.
    /// </summary>
    public CancellationTokenRegistration CancelOn(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(CancelCallback, this) : default;

    public void SetResult(ReplyFrame reply) => _core.SetResult(reply);

    public void SetException(Exception exception) => _core.SetException(exception);

    public void Reset()
    {
        Interim = null;
        _core.Reset();
    }

    public ReplyFrame GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Cancel(CancellationToken cancellationToken)
    {
        if (owner.TryRemove(this))
        {
            SetException(new OperationCanceledException(cancellationToken));
        }
    }
}
