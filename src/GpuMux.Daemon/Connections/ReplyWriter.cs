using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Encodes replies into one reusable buffer and sends them. One caller at a time: each send is
/// awaited before the next reply is encoded. The buffer is allocated at the first reply, so a
/// connection that is never answered (one that never says Hello) costs none.
/// </summary>
internal sealed class ReplyWriter(FrameConnection connection, int maxPayloadBytes)
{
    private byte[]? _buffer;

    public int MaxPayloadBytes => maxPayloadBytes;

    public ValueTask SendAsync<T>(MessageType type, uint requestId, T message, CancellationToken cancellationToken)
        where T : struct, IMessage<T>
    {
        var buffer = _buffer ??= new byte[FrameHeader.Size + maxPayloadBytes];
        var length = Message.Encode(buffer, type, requestId, message);
        return connection.SendAsync(buffer.AsMemory(0, length), cancellationToken);
    }

    public ValueTask SendOkAsync(uint requestId, CancellationToken cancellationToken) =>
        SendAsync(MessageType.Ok, requestId, new EmptyMessage(), cancellationToken);

    public ValueTask SendErrorAsync(uint requestId, ErrorCode code, string text, CancellationToken cancellationToken) =>
        SendAsync(MessageType.Error, requestId, new ErrorMessage(code, text), cancellationToken);
}
