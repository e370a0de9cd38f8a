using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Encodes replies into one reusable buffer and sends them. One caller at a time: each send is
/// awaited before the next reply is encoded.
/// </summary>
internal sealed class ReplyWriter(FrameConnection connection, int maxPayloadBytes)
{
    private readonly byte[] _buffer = new byte[FrameHeader.Size + maxPayloadBytes];

    public int MaxPayloadBytes => _buffer.Length - FrameHeader.Size;

    public ValueTask SendAsync<T>(MessageType type, uint requestId, T message, CancellationToken cancellationToken)
        where T : struct, IMessage<T>
    {
        var length = Message.Encode(_buffer, type, requestId, message);
        return connection.SendAsync(_buffer.AsMemory(0, length), cancellationToken);
    }

    public ValueTask SendOkAsync(uint requestId, CancellationToken cancellationToken) =>
        SendAsync(MessageType.Ok, requestId, new EmptyMessage(), cancellationToken);

    public ValueTask SendErrorAsync(uint requestId, ErrorCode code, string text, CancellationToken cancellationToken) =>
        SendAsync(MessageType.Error, requestId, new ErrorMessage(code, text), cancellationToken);
}
