using GpuMux.Daemon.Connections;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Time.Testing;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Connections that never say Hello, and clients that break the protocol again and again, cost the
/// daemon little and its log little, while a client that says Hello is served. The daemon keeps
/// time here by a clock the test moves, so nothing waits for real time to pass; each test that
/// would wait forever on a daemon without the limit has a timeout instead.
/// </summary>
public sealed class ConnectionFloodTests
{
    private const int TimeoutMs = 60_000;

    private static readonly string ConnectionsLogWarnings = $"--Logging:LogLevel:{typeof(ClientConnection).Namespace}=Warning";

    [Fact(Timeout = TimeoutMs)]
    public async Task A_connection_that_never_says_Hello_is_closed_when_the_handshake_timeout_passes()
    {
        var time = new FakeTimeProvider();
        await using var daemon = await TestDaemon.StartAsync(time, ConnectionsLogWarnings, "--Limits:HandshakeTimeoutMs=5000");
        using var log = new LogRecorder();
        daemon.AddLogger(log);
        await using var idle = await daemon.ConnectRawAsync();

        // Accepted after the idle one, so the daemon has started its clock on that one too.
        await using var client = await daemon.ConnectAsync();
        time.Advance(TimeSpan.FromMilliseconds(5000));

        Assert.True(await RawFrames.IsClosedAsync(idle));
        var logged = await log.NextAsync<PendingHandshakes>(310);
        Assert.Contains($"pid {Environment.ProcessId}", logged, StringComparison.Ordinal);
        Assert.Contains("did not say Hello within 5000 ms", logged, StringComparison.Ordinal);
        Assert.Equal(1u, (await client.GetStatusAsync(TestContext.Current.CancellationToken)).SessionsTotal);
    }

    [Fact(Timeout = TimeoutMs)]
    public async Task A_Hello_that_does_not_decode_leaves_the_connection_on_the_handshake_clock()
    {
        var time = new FakeTimeProvider();
        await using var daemon = await TestDaemon.StartAsync(time, "--Limits:HandshakeTimeoutMs=5000");
        await using var connection = await daemon.ConnectSendingAsync(RawFrames.Encode(MessageType.Hello, 1, new EmptyMessage()));
        var reply = await connection.ReadFrameAsync(TestContext.Current.CancellationToken);
        Assert.Equal(ErrorCode.MalformedFrame, Message.Decode<ErrorMessage>(reply!.Payload.Span).Code);

        time.Advance(TimeSpan.FromMilliseconds(5000));

        Assert.True(await RawFrames.IsClosedAsync(connection));
    }

    [Fact(Timeout = TimeoutMs)]
    public async Task One_connection_past_the_pending_limit_closes_the_oldest_waiting_one_and_a_client_that_says_Hello_gets_in()
    {
        await using var daemon = await TestDaemon.StartAsync(ConnectionsLogWarnings, "--Limits:MaxPendingHandshakes=3");
        using var log = new LogRecorder();
        daemon.AddLogger(log);
        var idle = new List<FrameConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                idle.Add(await daemon.ConnectRawAsync());
            }

            // The fourth connection waiting for its Hello: the oldest idle one makes room for it.
            await using var client = await daemon.ConnectAsync();

            Assert.True(await RawFrames.IsClosedAsync(idle[0]));
            Assert.Contains("the oldest of 3 that had not said Hello", await log.NextAsync<PendingHandshakes>(312), StringComparison.Ordinal);
            Assert.Equal(1u, (await client.GetStatusAsync(TestContext.Current.CancellationToken)).SessionsTotal);
            Assert.Equal(ProtocolVersion.Minor, await RawFrames.HelloAsync(idle[2]));
        }
        finally
        {
            foreach (var connection in idle)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = TimeoutMs)]
    public async Task A_peer_that_breaks_the_protocol_again_and_again_is_logged_once_and_then_counted()
    {
        var time = new FakeTimeProvider();
        await using var daemon = await TestDaemon.StartAsync(time, ConnectionsLogWarnings);
        using var log = new LogRecorder();
        daemon.AddLogger(log);

        for (var i = 0; i < 5; i++)
        {
            await using var connection = await daemon.ConnectSendingAsync(RawFrames.Header(payloadLength: 0, (ushort)MessageType.Hello, flags: 0x80));
            var reply = await connection.ReadFrameAsync(TestContext.Current.CancellationToken);
            Assert.Equal(ErrorCode.ProtocolViolation, Message.Decode<ErrorMessage>(reply!.Payload.Span).Code);
            Assert.True(await RawFrames.IsClosedAsync(connection));
        }

        time.Advance(LogThrottle<int>.Interval);

        var logged = await log.UntilAsync<ClientConnection>(206);
        var violation = Assert.Single(logged, entry => entry.EventId == 203);
        Assert.Equal($"Closing the connection of pid {Environment.ProcessId} uid {Uid()}: frame flags must be 0, not 0x80", violation.Message);
        Assert.StartsWith($"4 more connections of pid {Environment.ProcessId} uid {Uid()} were closed for breaking the protocol over the last 10 s", logged[^1].Message, StringComparison.Ordinal);
    }

    private static uint Uid() => Tmds.Linux.LibC.getuid();
}
