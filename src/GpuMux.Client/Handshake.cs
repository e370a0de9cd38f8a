using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Client;

/// <summary>Hello, then Welcome or a refusal (docs/protocol.md §3), before any other frame.</summary>
internal static class Handshake
{
    public static async Task<Welcome> RunAsync(FrameConnection connection, string clientName, Capabilities capabilities, CancellationToken cancellationToken)
    {
        var frame = new byte[FrameHeader.Size + ProtocolVersion.HandshakePayloadBytes];
        var length = Message.Encode(frame, MessageType.Hello, 0, Hello.ForThisVersion(clientName, capabilities));
        await connection.SendAsync(frame.AsMemory(0, length), cancellationToken).ConfigureAwait(false);

        var reply = await connection.ReadFrameAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new GpuMuxConnectionException("gpumuxd closed the connection without answering Hello");
        try
        {
            switch ((MessageType)reply.Header.Type)
            {
                case MessageType.Welcome:
                    var welcome = Message.Decode<Welcome>(reply.Payload.Span);
                    return welcome.Major == ProtocolVersion.Major
                        ? welcome
                        : throw new GpuMuxConnectionException($"gpumuxd speaks protocol {welcome.Major}.{welcome.Minor}, this client {ProtocolVersion.Major}.{ProtocolVersion.Minor}");
                case MessageType.Error:
                    var error = Message.Decode<ErrorMessage>(reply.Payload.Span);
                    throw GpuMuxException.For(error.Code, error.Text);
                default:
                    throw new GpuMuxConnectionException($"gpumuxd answered Hello with {(MessageType)reply.Header.Type}");
            }
        }
        catch (MalformedPayloadException e)
        {
            throw new GpuMuxConnectionException($"gpumuxd's answer to Hello cannot be read: {e.Message}", e);
        }
    }
}
