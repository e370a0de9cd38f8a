using System.Net.Sockets;
using GpuMux.Daemon.Metrics;
using GpuMux.Engine;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// One client, from its first byte to its close: the handshake, then its requests in order, with
/// step completions sent back as they finish. Whatever the client sends, the failure is its alone:
/// it gets an error frame, and a close where the stream can no longer be trusted.
/// </summary>
internal sealed class ClientConnection(
    FrameConnection connection,
    GpuEngine engine,
    SessionRegistry registry,
    PendingHandshakes handshakes,
    PeerWarnings warnings,
    IPeerIdentification peers,
    ConnectionSettings settings,
    DaemonMeter meter,
    ILogger logger)
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    // Taken as the accept loop builds the connection, so it counts before the next is accepted.
    private readonly PendingHandshake _handshake = handshakes.Admit(connection);

    // Until Hello the daemon sends at most an error, and a connection that never says Hello should
    // cost little: the session's reply buffer and its completion pump come with the session.
    private ReplyWriter _replies = new(connection, ProtocolVersion.HandshakePayloadBytes);
    private CompletionPump? _completions;
    private Task _pump = Task.CompletedTask;
    private EngineSession? _session;
    private RequestDispatcher? _dispatcher;

    // A session that only reads the reports: outside the session limit, and refused anything else.
    private bool _inspecting;

    // Why the client's bytes could no longer be trusted, when that is why the connection closes.
    private string? _violation;

    public async Task RunAsync(CancellationToken stopping)
    {
        var peer = connection.Peer;
        ConnectionLog.Accepted(logger, peer.Pid, peer.Uid);
        try
        {
            while (await connection.ReadFrameAsync(stopping) is { } frame)
            {
                if (!await HandleAsync(frame, stopping))
                {
                    break;
                }
            }
        }
        catch (FrameFormatException e)
        {
            _violation = e.Message;
            warnings.ProtocolViolation(peer, e.Message);
            var code = e.Reason == FrameError.TooLarge ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolViolation;
            await TrySendErrorAsync(0, code, e.Message);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await TrySendErrorAsync(0, ErrorCode.ShuttingDown, "the daemon is stopping");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            ConnectionLog.Reset(logger, peer.Pid, e.Message);
        }
        finally
        {
            await CloseAsync();
        }
    }

    /// <summary>Handles one frame; false when the connection must close.</summary>
    private async ValueTask<bool> HandleAsync(ReceivedFrame frame, CancellationToken stopping)
    {
        var id = frame.Header.RequestId;
        var type = (MessageType)frame.Header.Type;
        if (frame.DescriptorCount != ExpectedDescriptors(type))
        {
            _violation = $"a {type} frame carries {ExpectedDescriptors(type)} descriptors, not {frame.DescriptorCount}";
            await _replies.SendErrorAsync(id, ErrorCode.ProtocolViolation, _violation, stopping);
            return false;
        }

        try
        {
            if (type == MessageType.Hello)
            {
                return await HelloAsync(frame, stopping);
            }

            if (_dispatcher is null)
            {
                var code = IsRequest(type) ? ErrorCode.HandshakeRequired : ErrorCode.UnknownMessage;
                await _replies.SendErrorAsync(id, code, $"the first frame must be Hello, not 0x{frame.Header.Type:x4}", stopping);
                return true;
            }

            if (_inspecting && !IsReport(type))
            {
                await _replies.SendErrorAsync(id, ErrorCode.PermissionDenied, $"an inspecting session only reads the reports, it cannot send {type}", stopping);
                return true;
            }

            await _dispatcher.DispatchAsync(frame, stopping);
        }
        catch (MalformedPayloadException e)
        {
            await _replies.SendErrorAsync(id, ErrorCode.MalformedFrame, $"{type}: {e.Message}", stopping);
        }
        catch (EngineException e)
        {
            await _replies.SendErrorAsync(id, e.Error.ToWire(), e.Message, stopping);
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or SocketException or ObjectDisposedException))
        {
            warnings.Unexpected(connection.Peer, type, e);
            await _replies.SendErrorAsync(id, ErrorCode.Internal, $"{type} failed inside the daemon: {e.Message}", stopping);
        }

        return true;
    }

    private async ValueTask<bool> HelloAsync(ReceivedFrame frame, CancellationToken stopping)
    {
        var id = frame.Header.RequestId;
        if (_dispatcher is not null)
        {
            await _replies.SendErrorAsync(id, ErrorCode.HandshakeRequired, "the session has already said Hello", stopping);
            return true;
        }

        var hello = Message.Decode<Hello>(frame.Payload.Span);
        if (hello.Magic != ProtocolVersion.Magic || hello.Major != ProtocolVersion.Major)
        {
            await _replies.SendErrorAsync(id, ErrorCode.UnsupportedVersion,
                $"this daemon speaks protocol {ProtocolVersion.Major}.{ProtocolVersion.Minor} (magic 0x{ProtocolVersion.Magic:x8}); the client sent {hello.Major}.{hello.Minor} (magic 0x{hello.Magic:x8})", stopping);
            return false;
        }

        var inspecting = ((Capabilities)hello.Capabilities).HasFlag(Capabilities.Inspect);
        if (!registry.TryEnter(inspecting))
        {
            var limit = inspecting
                ? $"its limit of {SessionRegistry.MaxInspectingSessions} inspecting sessions"
                : $"its limit of {settings.MaxSessions} sessions (Limits:MaxSessions)";
            warnings.SessionRefused(connection.Peer, limit);
            await _replies.SendErrorAsync(id, ErrorCode.TooManySessions, $"the daemon is at {limit}", stopping);
            return false;
        }

        var identity = peers.Identify(connection);
        var peer = identity.Credentials;
        var minor = (ushort)Math.Min(hello.Minor, ProtocolVersion.Minor);
        var completions = new CompletionPump(connection, meter);
        try
        {
            _session = engine.OpenSession(new SessionIdentity(peer.Uid, peer.Gid, peer.Pid, hello.ClientName), completions);
        }
        catch
        {
            registry.Leave(inspecting);
            throw;
        }

        _inspecting = inspecting;

        // Only now: a Hello that does not decode leaves the connection open and still on the clock,
        // and a refused one closes it.
        handshakes.Leave(_handshake);
        _completions = completions;
        _pump = completions.RunAsync(CancellationToken.None);
        _replies = new ReplyWriter(connection, settings.MaxPayloadBytes);
        _dispatcher = new RequestDispatcher(engine, _session, _replies, settings, minor, new TenantView(peer.Uid, identity.SeesEveryTenant));
        connection.MaxPayloadBytes = settings.MaxPayloadBytes;
        var welcome = new Welcome(
            ProtocolVersion.Major,
            minor,
            (ulong)(inspecting ? Capabilities.Inspect : Capabilities.None),
            (uint)settings.MaxPayloadBytes,
            (ulong)_session.Id,
            engine.BackendKind.ToWire(),
            engine.BackendDescription,
            [engine.Device.ToWire()]);
        await _replies.SendAsync(MessageType.Welcome, id, welcome, stopping);
        return true;
    }

    private async Task CloseAsync()
    {
        handshakes.Leave(_handshake);
        if (_session is not null)
        {
            // The session's steps finish (or fail) before its memory is released; their completions
            // still go to the pump, which drains them and stops.
            await (_violation is null ? _session.DisposeAsync() : _session.CloseForViolationAsync(_violation));
            registry.Leave(_inspecting);
        }

        _completions?.Complete();
        try
        {
            await _pump.WaitAsync(CloseTimeout);
        }
        catch (TimeoutException)
        {
            // A client that stopped reading must not hold the daemon's shutdown.
            connection.Abort();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client is gone; its completions have nowhere to go.
        }

        await connection.DisposeAsync();
    }

    private async ValueTask TrySendErrorAsync(uint requestId, ErrorCode code, string text)
    {
        // A client that stopped reading must not hold the close: the send gives up, which aborts.
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await _replies.SendErrorAsync(requestId, code, text, timeout.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer closed first, or is not listening; there is nobody to tell.
        }
    }

    private static int ExpectedDescriptors(MessageType type) =>
        type is MessageType.RegisterRegion or MessageType.LoadModule or MessageType.RegisterModel ? 1 : 0;

    private static bool IsReport(MessageType type) => type is MessageType.GetStatus or MessageType.ListModels or MessageType.GetTenants;

    private static bool IsRequest(MessageType type) => (ushort)type is > 0 and < 0x8000 && Enum.IsDefined(type);
}

/// <summary>What every connection of one daemon shares: its limits, and when it started (a Stopwatch timestamp).</summary>
internal sealed record ConnectionSettings(int MaxSessions, int MaxPayloadBytes, int MaxModuleBytes, long StartedAt);

internal static partial class ConnectionLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Connection from pid {Pid} uid {Uid}")]
    public static partial void Accepted(ILogger logger, int pid, uint uid);

    // 201 and 202 said that a session opened and closed, which the engine's session log says once.

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Closing the connection of pid {Pid} uid {Uid}: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, int pid, uint uid, string reason);

    [LoggerMessage(EventId = 204, Level = LogLevel.Debug, Message = "Connection of pid {Pid} reset: {Reason}")]
    public static partial void Reset(ILogger logger, int pid, string reason);

    [LoggerMessage(EventId = 205, Level = LogLevel.Error, Message = "A {Type} request of pid {Pid} uid {Uid} failed unexpectedly")]
    public static partial void Unexpected(ILogger logger, MessageType type, int pid, uint uid, Exception exception);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "{Count} more connections of pid {Pid} uid {Uid} were closed for breaking the protocol over the last {Seconds} s (not logged one by one)")]
    public static partial void ViolationsHeldBack(ILogger logger, int count, int pid, uint uid, int seconds);

    [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "{Count} more requests of pid {Pid} uid {Uid} failed unexpectedly over the last {Seconds} s (not logged one by one)")]
    public static partial void FailuresHeldBack(ILogger logger, int count, int pid, uint uid, int seconds);

    [LoggerMessage(EventId = 208, Level = LogLevel.Warning, Message = "Refused a session to pid {Pid} uid {Uid}: the daemon is at {Limit}")]
    public static partial void SessionRefused(ILogger logger, int pid, uint uid, string limit);

    [LoggerMessage(EventId = 209, Level = LogLevel.Warning, Message = "{Count} more sessions of pid {Pid} uid {Uid} were refused at the session limit over the last {Seconds} s (not logged one by one)")]
    public static partial void RefusalsHeldBack(ILogger logger, int count, int pid, uint uid, int seconds);
}
