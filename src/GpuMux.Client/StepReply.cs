using System.Threading.Tasks.Sources;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Client;

/// <summary>
/// A step in flight: its encoded frame, and the wait for its completion, which is also the task its
/// submitter awaits. The receive loop decodes the completion into the <see cref="StepResult"/> (or
/// the step's exception) here. Nothing is allocated from the step's encoding to its result, where
/// async methods and pooled arrays, rented on one thread and returned on another, miss their
/// pools, and a reply would be copied out of the connection's buffer.
/// </summary>
/// <remarks>
/// Back to its pool once its frame has been sent and its result read, whichever comes last: a frame
/// whose send had to wait may still be going out when the completion has been read.
/// </remarks>
internal sealed class StepReply(PendingRequests owner) : PendingReply(owner), IValueTaskSource<StepResult>
{
    // Continuations run on the thread pool: the receive loop must not run callers' code inline.
    private ManualResetValueTaskSourceCore<StepResult> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private byte[] _frame = [];
    private int _holds;

    public long SubmittedAtNs { get; set; }

    /// <summary>The submitter's task; await it once, since the wait behind it is reused as soon as it has been.</summary>
    public ValueTask<StepResult> Result => new(this, _core.Version);

    public byte[] Frame => _frame;

    /// <summary>Readies the step's frame buffer for <paramref name="length"/> bytes and the two holds on the step, its send's and its result's.</summary>
    public void Start(int length)
    {
        if (_frame.Length < length)
        {
            _frame = new byte[length];
        }

        _holds = 2;
    }

    /// <summary>Gives up a hold on the step, taken by <see cref="Start"/>; the last recycles it.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holds) == 0)
        {
            Owner.Return(this);
        }
    }

    /// <summary>Cancels the wait when <paramref name="cancellationToken"/> fires, until the result is read.</summary>
    public void CancelWhen(CancellationToken cancellationToken) => _cancellation = CancelOn(cancellationToken);

    public override void Complete(MessageType type, ReadOnlySpan<byte> payload, long receivedAtNs)
    {
        if (type == MessageType.Error)
        {
            var error = Message.Decode<ErrorMessage>(payload);
            _core.SetException(GpuMuxException.For(error.Code, error.Text));
            return;
        }

        if (type != MessageType.StepCompleted)
        {
            throw new MalformedPayloadException($"expected {MessageType.StepCompleted}, the daemon answered {type}");
        }

        var completed = Message.Decode<StepCompleted>(payload);
        if (completed.Status != ErrorCode.None)
        {
            _core.SetException(GpuMuxException.For(
                completed.Status, completed.Message.Length > 0 ? completed.Message : $"the step failed with {completed.Status}"));
            return;
        }

        _core.SetResult(new StepResult(completed.QueuedAtNs, completed.StartedAtNs, completed.EndedAtNs, SubmittedAtNs, receivedAtNs));
    }

    public override void Fail(Exception exception) => _core.SetException(exception);

    public override void Reset() => _core.Reset();

    public StepResult GetResult(short token)
    {
        if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            // Awaited twice, or read before it completed: that throws, and recycles nothing.
            return _core.GetResult(token);
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Disposing waits for a cancellation callback that is running, so none can reach the
            // wait's next use; the completion is in, so nothing else can either.
            _cancellation.Dispose();
            _cancellation = default;
            Release();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
