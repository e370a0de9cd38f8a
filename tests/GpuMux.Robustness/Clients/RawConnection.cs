using System.Net.Sockets;
using System.Runtime.InteropServices;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Transport;
using static Tmds.Linux.LibC;

namespace GpuMux.Robustness.Clients;

/// <summary>
/// A connection that sends whatever bytes and descriptors it is given, framed or not, and reads
/// the daemon's frames with a bound: what a buggy or hostile client has, and what the suite needs
/// to see every reply (and the order they come in) for itself.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    // The daemon's frames are small; anything up to this is read, as the daemon may send.
    private const int MaxReplyPayloadBytes = 1 << 20;

    private readonly Socket _socket;
    private readonly FrameConnection _frames;

    private RawConnection(Socket socket)
    {
        _socket = socket;
        _frames = new FrameConnection(socket, MaxReplyPayloadBytes);
    }

    public static async Task<RawConnection> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new RawConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="bytes"/> as they are, with <paramref name="descriptors"/> on the first byte.</summary>
    /// <exception cref="IOException">The daemon closed the connection.</exception>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes, IReadOnlyList<SafeHandle> descriptors, CancellationToken cancellationToken)
    {
        if (descriptors.Count > 0 && !bytes.IsEmpty)
        {
            while (true)
            {
                var sent = SocketMessages.Send(_socket.SafeHandle, bytes.Span, descriptors);
                if (sent >= 0)
                {
                    bytes = bytes[sent..];
                    break;
                }

                if (sent != -EAGAIN)
                {
                    throw new IOException($"sendmsg failed with errno {-sent}");
                }

                await Task.Delay(1, cancellationToken);
            }
        }

        try
        {
            while (!bytes.IsEmpty)
            {
                bytes = bytes[await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken)..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    public Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => SendAsync(bytes, [], cancellationToken);

    /// <summary>
    /// The next frame, or null once the daemon has closed the connection (or reset it).
    /// </summary>
    /// <exception cref="TimeoutException">Nothing came within <paramref name="bound"/>.</exception>
    /// <exception cref="FrameFormatException">The daemon broke the framing: a bug of its own.</exception>
    public async Task<Reply?> ReadAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bound);
        try
        {
            var frame = await _frames.ReadFrameAsync(timeout.Token);
            return frame is null ? null : new Reply(frame.Header, frame.Payload.ToArray());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no frame from the daemon within {bound.TotalSeconds} s");
        }
        catch (ConnectionClosedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends a request and reads until its answer (a progress report is not one), passing over
    /// whatever else comes first; null when the connection closes before.
    /// </summary>
    /// <exception cref="TimeoutException">A frame did not come within <paramref name="bound"/>.</exception>
    public async Task<Reply?> RequestAsync(byte[] frame, IReadOnlyList<SafeHandle> descriptors, TimeSpan bound, CancellationToken cancellationToken)
    {
        var id = FrameHeader.TryRead(frame, out var header) ? header.RequestId : throw new ArgumentException("not a frame", nameof(frame));
        await SendAsync(frame, descriptors, cancellationToken);
        while (await ReadAsync(bound, cancellationToken) is { } reply)
        {
            if (reply.RequestId == id && reply.Type != Protocol.MessageType.ModelProgress)
            {
                return reply;
            }
        }

        return null;
    }

    /// <summary>Says this side will send nothing more; the daemon sees the end of the stream.</summary>
    public void EndSending()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Already gone: the end is what was wanted.
        }
    }

    /// <summary>Drops the connection at once, whatever is half sent or unread: what a killed process's socket does.</summary>
    public void Abort() => _frames.Abort();

    public ValueTask DisposeAsync() => _frames.DisposeAsync();
}
