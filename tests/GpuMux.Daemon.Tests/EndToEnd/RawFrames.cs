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

    public static async Task HelloAsync(FrameConnection connection)
    {
        await connection.SendAsync(Encode(MessageType.Hello, 1, Hello.ForThisVersion("raw")), TestContext.Current.CancellationToken);
        var reply = await connection.ReadFrameAsync(TestContext.Current.CancellationToken);
        Assert.Equal((ushort)MessageType.Welcome, reply!.Header.Type);
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
