using GpuMux.Cli;
using GpuMux.Cli.Commands;
using GpuMux.Client;
using GpuMux.Daemon.Connections;
using GpuMux.Daemon.Tests.Cli;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>A daemon at its session limit can still be looked at, and says whom it refused.</summary>
public sealed class SessionLimitTests
{
    private static readonly string ConnectionsLogWarnings = $"--Logging:LogLevel:{typeof(ClientConnection).Namespace}=Warning";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_daemon_at_its_session_limit_still_answers_gpumuxctl_status()
    {
        await using var daemon = await TestDaemon.StartAsync("--Limits:MaxSessions=1");
        await using var worker = await daemon.ConnectAsync("worker");
        await Assert.ThrowsAsync<TooManySessionsException>(() => daemon.ConnectAsync("second"));

        foreach (var command in new[] { "status", "tenants", "models", "health" })
        {
            var terminal = new CapturedTerminal(120);
            Assert.Equal(ExitCodes.Ok, await GpuMuxCtl.RunAsync([command, "--host", daemon.SocketPath], terminal.Terminal, Cancellation));
            Assert.Empty(terminal.Error);
        }

        var status = new CapturedTerminal(120);
        await GpuMuxCtl.RunAsync(["status", "--host", daemon.SocketPath], status.Terminal, Cancellation);
        Assert.Contains("worker", status.Out);
    }

    [Fact]
    public async Task A_session_refused_at_the_limit_is_logged_with_the_peer_s_pid_and_uid()
    {
        await using var daemon = await TestDaemon.StartAsync(ConnectionsLogWarnings, "--Limits:MaxSessions=1");
        using var log = new LogRecorder();
        daemon.AddLogger(log);
        await using var worker = await daemon.ConnectAsync("worker");

        await Assert.ThrowsAsync<TooManySessionsException>(() => daemon.ConnectAsync("second"));

        var logged = await log.NextAsync<ClientConnection>(208);
        Assert.Contains($"pid {Environment.ProcessId} uid {Tmds.Linux.LibC.geteuid()}", logged, StringComparison.Ordinal);
        Assert.Contains("its limit of 1 sessions (Limits:MaxSessions)", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inspecting_session_reads_the_reports_and_is_refused_anything_else()
    {
        await using var daemon = await TestDaemon.StartAsync("--Limits:MaxSessions=1");
        await using var worker = await daemon.ConnectAsync("worker");
        await using var inspector = await GpuMuxClient.ConnectAsync(
            new GpuMuxClientOptions { Host = daemon.SocketPath, ClientName = "inspector", InspectOnly = true }, Cancellation);

        Assert.True(inspector.InspectOnly);
        Assert.False(worker.InspectOnly);
        Assert.Equal(2u, (await inspector.GetStatusAsync(Cancellation)).SessionsTotal);
        await inspector.GetTenantsAsync(Cancellation);
        await inspector.ListModelsAsync(Cancellation);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => inspector.AllocateBufferAsync(4096, Cancellation));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => inspector.GetBuiltinAsync("fill", Cancellation));
    }

    [Fact]
    public async Task Inspecting_sessions_have_a_limit_of_their_own()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var inspectors = new List<GpuMuxClient>();
        try
        {
            for (var i = 0; i < SessionRegistry.MaxInspectingSessions; i++)
            {
                inspectors.Add(await GpuMuxClient.ConnectAsync(new GpuMuxClientOptions { Host = daemon.SocketPath, InspectOnly = true }, Cancellation));
            }

            var refused = await Assert.ThrowsAsync<TooManySessionsException>(() =>
                GpuMuxClient.ConnectAsync(new GpuMuxClientOptions { Host = daemon.SocketPath, InspectOnly = true }, Cancellation));
            Assert.Contains($"{SessionRegistry.MaxInspectingSessions} inspecting sessions", refused.Message, StringComparison.Ordinal);
            await using var worker = await daemon.ConnectAsync("worker");
            Assert.False(worker.InspectOnly);
        }
        finally
        {
            foreach (var inspector in inspectors)
            {
                await inspector.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_hello_with_every_capability_bit_set_gets_only_the_bits_the_daemon_knows_and_a_second_hello_ends_the_connection()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var connection = await daemon.ConnectRawAsync();
        await using (connection)
        {
            var cancellation = TestContext.Current.CancellationToken;
            var hello = Protocol.Messages.Hello.ForThisVersion("all-bits") with { Capabilities = ulong.MaxValue };
            await connection.SendAsync(RawFrames.Encode(Protocol.MessageType.Hello, 1, hello), cancellation);
            var welcome = await connection.ReadFrameAsync(cancellation);
            Assert.Equal((ulong)Protocol.Capabilities.Inspect, Protocol.Messages.Message.Decode<Protocol.Messages.Welcome>(welcome!.Payload.Span).Capabilities);

            // Inspecting, it holds nothing on the device.
            await connection.SendAsync(RawFrames.Encode(Protocol.MessageType.AllocateBuffer, 2, new Protocol.Messages.SizeMessage(4096)), cancellation);
            Assert.Equal(Protocol.ErrorCode.PermissionDenied, (await RawFrames.ReadErrorAsync(connection)).Code);

            await connection.SendAsync(RawFrames.Encode(Protocol.MessageType.Hello, 3, hello), cancellation);
            Assert.Equal(3u, (await RawFrames.ReadErrorAsync(connection)).RequestId);
        }

        await using var client = await daemon.ConnectAsync();
        Assert.Equal(1u, (await client.GetStatusAsync(TestContext.Current.CancellationToken)).SessionsTotal);
    }
}
