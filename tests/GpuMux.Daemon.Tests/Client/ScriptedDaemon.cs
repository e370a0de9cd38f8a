using System.Net.Sockets;
using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.Client;

/// <summary>
/// The daemon's side of one connection, played by the test over the real transport: it answers
/// the handshake, then the test reads each request and writes whatever reply it means to test.
/// </summary>
internal sealed class ScriptedDaemon : IAsyncDisposable
{
    public const int MaxPayloadBytes = 65536;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gpumux-client-test-");
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly ushort _minor;
    private FrameConnection? _connection;

    /// <param name="minor">The protocol minor version the daemon agrees to in its Welcome.</param>
    public ScriptedDaemon(ushort minor = ProtocolVersion.Minor)
    {
        _minor = minor;
        SocketPath = Path.Combine(_directory.FullName, "gpumuxd.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen();
    }

    public string SocketPath { get; }

    private FrameConnection Connection => _connection ?? throw new InvalidOperationException("accept the client first");

    /// <summary>Connects a client to this daemon, which welcomes it.</summary>
    public async Task<GpuMuxClient> ConnectClientAsync(CancellationToken cancellationToken)
    {
        var connecting = GpuMuxClient.ConnectAsync(new GpuMuxClientOptions { Host = $"unix:{SocketPath}", ClientName = "test" }, cancellationToken);
        await AcceptAsync(cancellationToken);
        return await connecting;
    }

    /// <summary>Accepts the client and welcomes it.</summary>
    public async Task AcceptAsync(CancellationToken cancellationToken)
    {
        _connection = new FrameConnection(await _listener.AcceptAsync(cancellationToken), ProtocolVersion.HandshakePayloadBytes);
        var hello = await ReadAsync(cancellationToken);
        Assert.Equal(MessageType.Hello, hello.Type);
        var device = new DeviceDescription(0, "Scripted GPU", 1UL << 30, 9, 0, 132, "0000:00:00.0");
        var welcome = new Welcome(ProtocolVersion.Major, _minor, 0, MaxPayloadBytes, SessionId: 42, BackendKind.Sim, "scripted", [device]);
        await ReplyAsync(MessageType.Welcome, hello.RequestId, welcome, cancellationToken);
        Connection.MaxPayloadBytes = MaxPayloadBytes;
    }

    /// <summary>The next request, its payload copied out of the connection's buffer.</summary>
    public async Task<Request> ReadAsync(CancellationToken cancellationToken)
    {
        var frame = await Connection.ReadFrameAsync(cancellationToken) ?? throw new InvalidOperationException("the client closed the connection");
        return new Request((MessageType)frame.Header.Type, frame.Header.RequestId, frame.Payload.ToArray(), frame.DescriptorCount);
    }

    public async Task ReplyAsync<T>(MessageType type, uint requestId, T message, CancellationToken cancellationToken)
        where T : struct, IMessage<T>
    {
        var frame = new byte[FrameHeader.Size + MaxPayloadBytes];
        var length = Message.Encode(frame, type, requestId, message);
        await Connection.SendAsync(frame.AsMemory(0, length), cancellationToken);
    }

    /// <summary>Reads one request of <paramref name="type"/> and answers it with a handle.</summary>
    public async Task<Request> AnswerWithHandleAsync(MessageType type, MessageType replyType, uint handle, CancellationToken cancellationToken)
    {
        var request = await ReadAsync(cancellationToken);
        Assert.Equal(type, request.Type);
        await ReplyAsync(replyType, request.RequestId, new HandleMessage(handle), cancellationToken);
        return request;
    }

    /// <summary>Drops the connection, as a daemon that crashed would.</summary>
    public void Drop() => Connection.Abort();

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _listener.Dispose();
        _directory.Delete(recursive: true);
    }

    public sealed record Request(MessageType Type, uint RequestId, byte[] Payload, int DescriptorCount);
}
