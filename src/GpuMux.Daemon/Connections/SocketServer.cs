using System.Diagnostics;
using System.Net.Sockets;
using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Device;
using GpuMux.Daemon.Hosting;
using GpuMux.Daemon.Metrics;
using GpuMux.Engine;
using GpuMux.Protocol;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Listens on the Unix socket (bound here, or handed over by systemd) and runs a
/// <see cref="ClientConnection"/> per client. Start returns once the socket accepts.
/// </summary>
internal sealed class SocketServer(
    EngineService engineService,
    IOptions<SocketOptions> socket,
    IOptions<LimitsOptions> limits,
    DaemonStatusLine statusLine,
    IPeerIdentification peers,
    DescriptorBudget descriptors,
    TimeProvider time,
    DaemonMeter meter,
    ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<SocketServer>();
    private readonly ILogger _connectionLogger = loggerFactory.CreateLogger<ClientConnection>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _connections = [];
    private UnixSocketListener? _listener;
    private PendingHandshakes? _handshakes;
    private PeerWarnings? _warnings;
    private Task _acceptLoop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = Listen();
        var settings = new ConnectionSettings(limits.Value.MaxSessions, limits.Value.MaxFramePayloadBytes, limits.Value.MaxModuleBytes, Stopwatch.GetTimestamp());
        var registry = new SessionRegistry(settings.MaxSessions);
        _handshakes = new PendingHandshakes(
            limits.Value.MaxPendingHandshakes,
            TimeSpan.FromMilliseconds(limits.Value.HandshakeTimeoutMs),
            time,
            loggerFactory.CreateLogger<PendingHandshakes>());
        _warnings = new PeerWarnings(_connectionLogger, time);
        _acceptLoop = AcceptLoopAsync(_listener, settings, registry, _handshakes, _warnings);
        var engine = engineService.Engine;
        statusLine.Set($"serving {engine.Device.Name} ({engine.BackendKind}) on {_listener.Path ?? "a socket from systemd"}");
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        await _acceptLoop;
        Task[] running;
        lock (_gate)
        {
            running = [.. _connections];
        }

        await Task.WhenAll(running).WaitAsync(cancellationToken);
        _handshakes?.Dispose();
        _warnings?.Dispose();
        _stopping.Dispose();
    }

    private UnixSocketListener Listen()
    {
        if (SocketActivation.TryAdoptListeningSocket() is { } activated)
        {
            SocketServerLog.Adopted(_logger);
            return UnixSocketListener.Adopt(activated);
        }

        var options = socket.Value;
        var path = options.ResolvedPath;
        var listener = UnixSocketListener.Bind(path, options.FileMode, options.Group);
        SocketServerLog.Listening(_logger, path, options.Mode);
        if (!string.IsNullOrEmpty(options.Group) && !listener.GroupApplied)
        {
            SocketServerLog.GroupMissing(_logger, options.Group);
        }
        return listener;
    }

    private async Task AcceptLoopAsync(
        UnixSocketListener listener, ConnectionSettings settings, SessionRegistry registry, PendingHandshakes handshakes, PeerWarnings warnings)
    {
        var engine = engineService.Engine;
        var backoff = new AcceptBackoff(time, _logger);
        var room = new ConnectionRoom(descriptors, time, _logger);
        while (!_stopping.IsCancellationRequested)
        {
            FrameConnection accepted;
            try
            {
                await room.TakeAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                accepted = await listener.AcceptAsync(ProtocolVersion.HandshakePayloadBytes, _stopping.Token);
                backoff.Succeeded();
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && _stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e) when (AcceptBackoff.IsConnectionsOwn(e))
            {
                room.Return();
                SocketServerLog.AcceptedGone(_logger, e.Message);
                continue;
            }
            catch (SocketException e)
            {
                room.Return();
                try
                {
                    await backoff.PauseAsync(e, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            meter.ConnectionAccepted();
            var connection = new ClientConnection(accepted, engine, registry, handshakes, warnings, peers, settings, meter, _connectionLogger);
            Track(connection.RunAsync(_stopping.Token), room);
        }
    }

    /// <summary>Keeps the connection's task for the stop to wait for; its room is given back once it has closed.</summary>
    private void Track(Task connection, ConnectionRoom room)
    {
        lock (_gate)
        {
            _connections.Add(connection);
        }

        connection.ContinueWith(
            finished =>
            {
                lock (_gate)
                {
                    _connections.Remove(finished);
                }

                room.Return();
                meter.ConnectionClosed();
            },
            TaskScheduler.Default);
    }
}

internal static partial class SocketServerLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Listening on {Path} (mode {Mode})")]
    public static partial void Listening(ILogger logger, string path, string mode);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "The socket's group stays the daemon's own: there is no group '{Group}' (create it to let its members connect)")]
    public static partial void GroupMissing(ILogger logger, string group);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Listening on the socket systemd passed in")]
    public static partial void Adopted(ILogger logger);

    [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "A connection went away before it was accepted: {Reason}")]
    public static partial void AcceptedGone(ILogger logger, string reason);
}
