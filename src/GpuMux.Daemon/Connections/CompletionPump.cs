using System.Threading.Channels;
using GpuMux.Daemon.Metrics;
using GpuMux.Engine;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Takes step completions from the engine thread without blocking it and sends them to the client
/// in the order they finished, timing each one from its step's end to its frame written. The engine thread sends a completion itself, with a send that never
/// waits, when none is queued ahead of it; otherwise, or when that send would wait (another frame
/// going out, a client that does not read), the completion is queued for the pump's loop.
/// </summary>
internal sealed class CompletionPump(FrameConnection connection, DaemonMeter meter) : IStepCompletionSink
{
    private const int MaxFrameBytes = FrameHeader.Size + 2 + 3 * 8 + 2 + ErrorMessage.MaxTextBytes;

    private readonly Channel<StepCompletion> _completions =
        Channel.CreateUnbounded<StepCompletion>(new() { SingleReader = true, SingleWriter = false });

    // One buffer for the engine thread and one for the loop, which may encode at the same time.
    private readonly byte[] _direct = new byte[MaxFrameBytes];
    private readonly byte[] _buffer = new byte[MaxFrameBytes];

    // Completions queued and not yet sent. Only the engine thread queues, so when it reads 0 the
    // loop has sent everything and is not sending: a frame sent now goes out after all of them.
    private int _queued;

    public void OnStepCompleted(in StepCompletion completion)
    {
        if (Volatile.Read(ref _queued) == 0 && connection.TrySend(_direct.AsSpan(0, Encode(_direct, completion))))
        {
            meter.CompletionWritten(in completion);
            return;
        }

        Interlocked.Increment(ref _queued);
        _completions.Writer.TryWrite(completion);
    }

    /// <summary>Sends completions until <see cref="Complete"/> and the queue is drained, or the connection fails.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var completion in _completions.Reader.ReadAllAsync(cancellationToken))
        {
            await connection.SendAsync(_buffer.AsMemory(0, Encode(_buffer, completion)), cancellationToken);
            Interlocked.Decrement(ref _queued);
            meter.CompletionWritten(in completion);
        }
    }

    public void Complete() => _completions.Writer.TryComplete();

    private static int Encode(byte[] buffer, in StepCompletion completion) =>
        Message.Encode(buffer, MessageType.StepCompleted, completion.RequestId, new StepCompleted(
            completion.Status.ToWire(),
            completion.QueuedAtNs,
            completion.StartedAtNs,
            completion.EndedAtNs,
            completion.Message ?? string.Empty));
}
