using System.Net.Sockets;
using GpuMux.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>Why a connection stopped working before an orderly end of stream.</summary>
public enum ConnectionClosedReason
{
    /// <summary>The peer went away while data was in flight (ECONNRESET, EPIPE).</summary>
    Reset,

    /// <summary>This side closed it: <see cref="FrameConnection.Abort"/> or disposal.</summary>
    Aborted,

    /// <summary>Any other socket error; the inner exception has it.</summary>
    Failed,
}

/// <summary>A read or send on a connection that was reset, aborted, or failed.</summary>
public sealed class ConnectionClosedException(ConnectionClosedReason reason, string message, Exception? innerException = null)
    : IOException(message, innerException)
{
    public ConnectionClosedReason Reason { get; } = reason;

    internal static ConnectionClosedException Aborted() =>
        new(ConnectionClosedReason.Aborted, "the connection was closed by this side");

    internal static ConnectionClosedException FromErrno(int errno, string call)
    {
        var error = new LinuxException(call, errno);
        return errno == ECONNRESET || errno == EPIPE
            ? new ConnectionClosedException(ConnectionClosedReason.Reset, "the peer reset the connection", error)
            : new ConnectionClosedException(ConnectionClosedReason.Failed, error.Message, error);
    }

    /// <summary>
    /// Classifies what a socket operation threw. Anything after our own abort counts as the abort,
    /// since shutting the socket down makes operations in flight fail in all sorts of ways.
    /// </summary>
    internal static ConnectionClosedException From(Exception exception, bool aborted) => exception switch
    {
        ConnectionClosedException { Reason: ConnectionClosedReason.Aborted } closed => closed,
        _ when aborted => new ConnectionClosedException(ConnectionClosedReason.Aborted, "the connection was closed by this side", exception),
        ConnectionClosedException closed => closed,
        ObjectDisposedException => new ConnectionClosedException(ConnectionClosedReason.Aborted, "the connection was closed by this side", exception),
        SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown } =>
            new ConnectionClosedException(ConnectionClosedReason.Reset, "the peer reset the connection", exception),
        _ => new ConnectionClosedException(ConnectionClosedReason.Failed, exception.Message, exception),
    };
}
