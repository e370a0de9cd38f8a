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
/// in the order they finished, timing each one from its step's end to its frame written.
/// </summary>
internal sealed class CompletionPump(DaemonMeter meter) : IStepCompletionSink
{
    private const int MaxFrameBytes = FrameHeader.Size + 2 + 3 * 8 + 2 + ErrorMessage.MaxTextBytes;

    private readonly Channel<StepCompletion> _completions =
        Channel.CreateUnbounded<StepCompletion>(new() { SingleReader = true, SingleWriter = false });

    private readonly byte[] _buffer = new byte[MaxFrameBytes];

    public void OnStepCompleted(in StepCompletion completion) => _completions.Writer.TryWrite(completion);

    /// <summary>Sends completions until <see cref="Complete"/> and the queue is drained, or the connection fails.</summary>
    public async Task RunAsync(FrameConnection connection, CancellationToken cancellationToken)
    {
        await foreach (var completion in _completions.Reader.ReadAllAsync(cancellationToken))
        {
            var length = Message.Encode(_buffer, MessageType.StepCompleted, completion.RequestId, ToWire(completion));
            await connection.SendAsync(_buffer.AsMemory(0, length), cancellationToken);
            meter.CompletionWritten(in completion);
        }
    }

    public void Complete() => _completions.Writer.TryComplete();

    private static StepCompleted ToWire(in StepCompletion completion) => new(
        completion.Status.ToWire(),
        completion.QueuedAtNs,
        completion.StartedAtNs,
        completion.EndedAtNs,
        completion.Message ?? string.Empty);
}
