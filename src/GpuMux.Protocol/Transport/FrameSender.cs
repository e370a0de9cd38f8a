using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Writes whole frames, one at a time, for any number of callers on any threads. A frame with
/// descriptors starts with a sendmsg that carries them with its first bytes; the rest of it, and
/// every plain frame, goes through the socket engine, which waits for room without a thread.
/// </summary>
internal sealed class FrameSender(Socket socket, CancellationToken aborted, Action abort)
{
    private readonly SafeSocketHandle _handle = socket.SafeHandle;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private bool _closed;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> frame, IReadOnlyList<SafeHandle> descriptors, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        var started = false;
        try
        {
            if (_closed || aborted.IsCancellationRequested)
            {
                throw ConnectionClosedException.Aborted();
            }

            if (descriptors.Count > 0)
            {
                frame = frame[await SendWithDescriptorsAsync(frame, descriptors, cancellationToken)..];
            }

            cancellationToken.ThrowIfCancellationRequested();
            started = true;
            while (!frame.IsEmpty)
            {
                frame = frame[await socket.SendAsync(frame, SocketFlags.None, cancellationToken)..];
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (started)
            {
                // The engine may have written part of the frame, and the peer would take the next
                // frame's bytes for the rest of it: the stream is finished.
                abort();
            }

            throw;
        }
        catch (Exception e)
        {
            throw ConnectionClosedException.From(e, aborted.IsCancellationRequested);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Waits for the send in progress, if any, and refuses every later one.</summary>
    public async ValueTask CloseAsync()
    {
        await _turn.WaitAsync();
        _closed = true;
        _turn.Release();
    }

    private async ValueTask<int> SendWithDescriptorsAsync(ReadOnlyMemory<byte> frame, IReadOnlyList<SafeHandle> descriptors, CancellationToken cancellationToken)
    {
        while (true)
        {
            var sent = SocketMessages.Send(_handle, frame.Span, descriptors);
            if (sent >= 0)
            {
                return sent;
            }

            if (sent != -EAGAIN)
            {
                throw ConnectionClosedException.FromErrno(-sent, "sendmsg");
            }

            await WritableWaiter.Shared.WaitAsync(_handle, cancellationToken);
        }
    }
}
