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
}
