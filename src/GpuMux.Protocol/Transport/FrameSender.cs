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
    private const int MaxSpins = 20;

    private readonly SemaphoreSlim _turn = new(1, 1);
    private volatile bool _quickTurn;
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

    /// <summary>
    /// Sends a frame that carries no descriptors on the calling thread, if that needs no wait: false,
    /// with nothing sent, when another send is under way, the socket has no room, or the connection
    /// is closed or broken (the caller's own send then finds out which). Once some of the frame is
    /// taken, the rest follows: from a copy, behind the same turn, if the socket took only part.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        if (!TakeTurnNow())
        {
            return false;
        }

        var sent = _closed || aborted.IsCancellationRequested ? -EPIPE : SocketMessages.Send(_handle, frame);
        _quickTurn = false;
        if (sent == frame.Length)
        {
            _turn.Release();
            return true;
        }

        if (sent <= 0)
        {
            _turn.Release();
            return false;
        }

        // Rare (a full socket buffer), so the copy the rest needs to outlive the caller's buffer may allocate.
        _ = SendRestAsync(frame[sent..].ToArray());
        return true;
    }

    /// <summary>Waits for the send in progress, if any, and refuses every later one.</summary>
    public async ValueTask CloseAsync()
    {
        await _turn.WaitAsync();
        _closed = true;
        _turn.Release();
    }

    /// <summary>
    /// Takes the turn if it is free, or soon will be: a turn held by another <see cref="TrySend"/>
    /// ends within a system call, so it is worth a few spins, where waiting for it asynchronously
    /// would cost the waiter an allocation. A turn held by an awaited send may last as long as the
    /// peer does not read, so that one is not waited for.
    /// </summary>
    private bool TakeTurnNow()
    {
        var spinner = default(SpinWait);
        while (!_turn.Wait(0))
        {
            if (!_quickTurn || spinner.Count >= MaxSpins)
            {
                return false;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        _quickTurn = true;
        return true;
    }

    /// <summary>Sends what <see cref="TrySend"/> began, then gives the turn back; a failure aborts the connection, since the frame is cut.</summary>
    private async Task SendRestAsync(ReadOnlyMemory<byte> rest)
    {
        try
        {
            while (!rest.IsEmpty)
            {
                rest = rest[await socket.SendAsync(rest, SocketFlags.None, aborted)..];
            }
        }
        catch (Exception)
        {
            abort();
        }
        finally
        {
            _turn.Release();
        }
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
