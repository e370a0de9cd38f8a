using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using GpuMux.Protocol.Transport;

namespace GpuMux.Client;

/// <summary>
/// Sends the client's frames, each let go once sent. A frame without descriptors goes out on the
/// caller's thread without waiting: a caller that finds another sending leaves its frame to that
/// one, which sends it before it stops. Callers that raced for the connection's turn instead would
/// fall back, when they lost, to an awaited send that allocates. A send that fails loses the
/// connection, which fails every wait with the reason.
/// </summary>
internal sealed class FrameOutbox(FrameConnection connection, Action<Exception> lose)
{
    // Holds no more than the frames sent at once, so its first segment is reused and never outgrown.
    private readonly ConcurrentQueue<OutgoingFrame> _queued = new();
    private int _sending;

    public void Send(OutgoingFrame frame)
    {
        _queued.Enqueue(frame);

        // The sender looks at the queue again after it stops, so a frame queued while it was
        // stopping is sent by it or by its own caller, never left behind.
        while (!_queued.IsEmpty && Interlocked.Exchange(ref _sending, 1) == 0)
        {
            while (_queued.TryDequeue(out var next))
            {
                SendNow(next);
            }

            Volatile.Write(ref _sending, 0);
        }
    }

    /// <summary>
    /// Sends a frame, waiting for its turn and for room: one with descriptors, which need sendmsg and
    /// stay the caller's only until sent, or one that could not go out at once.
    /// </summary>
    public async Task SendAsync(OutgoingFrame frame, IReadOnlyList<SafeHandle> descriptors)
    {
        try
        {
            await connection.SendAsync(frame.Bytes.AsMemory(0, frame.Length), descriptors, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The stream is broken, or holds part of a frame.
            lose(e);
        }
        finally
        {
            frame.Sent();
        }
    }

    private void SendNow(OutgoingFrame frame)
    {
        // Waiting is left to the awaited send, where the socket is full or an awaited send holds the turn.
        if (!connection.TrySend(frame.Bytes.AsSpan(0, frame.Length)))
        {
            _ = SendAsync(frame, []);
            return;
        }

        frame.Sent();
    }
}
