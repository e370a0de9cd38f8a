using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Frames built by hand, for the tests that send what no well-behaved client would.</summary>
internal static class RawFrames
{
    public static byte[] Encode<T>(MessageType type, uint requestId, T message, byte descriptorCount = 0)
        where T : struct, IMessage<T>
    {
        var buffer = new byte[4096];
        var length = Message.Encode(buffer, type, requestId, message, descriptorCount);
        return buffer[..length];
    }

    public static byte[] Header(uint payloadLength, ushort type, byte descriptors = 0, byte flags = 0, uint requestId = 1)
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(payloadLength, type, descriptors, flags, requestId).Write(header);
        return header;
    }

    /// <summary>Greets the daemon as a client of this protocol's major and <paramref name="minor"/>; returns the minor the daemon's Welcome says both speak.</summary>
    public static async Task<ushort> HelloAsync(FrameConnection connection, ushort minor = ProtocolVersion.Minor)
    {
        await connection.SendAsync(Encode(MessageType.Hello, 1, Hello.ForThisVersion("raw") with { Minor = minor }), TestContext.Current.CancellationToken);
        var reply = await connection.ReadFrameAsync(TestContext.Current.CancellationToken);
        Assert.Equal((ushort)MessageType.Welcome, reply!.Header.Type);
        return Message.Decode<Welcome>(reply.Payload.Span).Minor;
    }

    /// <summary>Sends a request of <paramref name="type"/> with an empty payload and decodes the reply as <typeparamref name="T"/>.</summary>
    public static async Task<T> AskAsync<T>(FrameConnection connection, MessageType type, uint requestId)
        where T : struct, IMessage<T>
    {
        await connection.SendAsync(Encode(type, requestId, new EmptyMessage()), TestContext.Current.CancellationToken);
        var reply = await connection.ReadFrameAsync(TestContext.Current.CancellationToken);
        return Message.Decode<T>(reply!.Payload.Span);
    }

    /// <summary>The next frame, which must be an Error; returns its code and text.</summary>
    public static async Task<(ErrorCode Code, string Text, uint RequestId)> ReadErrorAsync(FrameConnection connection)
    {
        var frame = await connection.ReadFrameAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(frame);
        Assert.Equal((ushort)MessageType.Error, frame.Header.Type);
        var error = Message.Decode<ErrorMessage>(frame.Payload.Span);
        return (error.Code, error.Text, frame.Header.RequestId);
    }

    /// <summary>True when the daemon has closed the connection (an orderly end or a reset).</summary>
    public static async Task<bool> IsClosedAsync(FrameConnection connection)
    {
        try
        {
            return await connection.ReadFrameAsync(TestContext.Current.CancellationToken) is null;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ConnectionClosedException)
        {
            return true;
        }
    }
}
