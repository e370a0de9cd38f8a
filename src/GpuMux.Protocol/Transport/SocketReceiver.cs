using System.IO.Pipelines;
using System.Net.Sockets;
using GpuMux.Protocol.Framing;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Moves what arrives on the socket into a pipe (bytes) and a <see cref="DescriptorQueue"/>
/// (descriptors), pausing while the pipe is full so that a peer that outruns its reader is held
/// back by the socket buffer. Bytes are read with recvmsg, since .NET cannot receive descriptors;
/// the socket engine only tells when there is something to read, through a zero-byte receive,
/// which it performs as a one-byte MSG_PEEK, so it never consumes data or descriptors.
/// </summary>
internal sealed class SocketReceiver(Socket socket, PipeWriter pipe, DescriptorQueue descriptors)
{
    private const int MinimumReadBytes = 4096;

    private readonly SafeSocketHandle _handle = socket.SafeHandle;
    private long _received;

    /// <summary>
    /// Why the stream ended, when it did not end cleanly: a <see cref="ConnectionClosedException"/>,
    /// or a <see cref="FrameFormatException"/> for descriptors that did not fit. Set before the pipe
    /// completes, so the reader first takes the frames that arrived before it.
    /// </summary>
    public Exception? Failure { get; private set; }

    public async Task RunAsync(CancellationToken aborted)
    {
        try
        {
            while (true)
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, aborted);
                if (!await DrainAsync(aborted))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            Failure = ConnectionClosedException.From(e, aborted.IsCancellationRequested);
        }
        finally
        {
            await pipe.CompleteAsync();
        }
    }

    /// <summary>
    /// Reads until the socket has nothing more; false once the stream has ended. A read that did
    /// not fill its buffer ends the drain without a recvmsg that would only say EAGAIN: the wait
    /// for more that follows tries the socket first anyway.
    /// </summary>
    private async ValueTask<bool> DrainAsync(CancellationToken aborted)
    {
        while (true)
        {
            var outcome = ReceiveOnce();
            if (outcome is Outcome.Empty or Outcome.Ended)
            {
                return outcome == Outcome.Empty;
            }

            var flushed = await pipe.FlushAsync(aborted);
            if (flushed.IsCompleted)
            {
                return false;
            }

            if (outcome == Outcome.Drained)
            {
                return true;
            }
        }
    }

    private Outcome ReceiveOnce()
    {
        var memory = pipe.GetMemory(MinimumReadBytes);
        var received = new DescriptorArray();
        var length = SocketMessages.Receive(_handle, memory.Span, received, out var count, out var truncated);
        if (length == -EAGAIN)
        {
            return Outcome.Empty;
        }

        if (length < 0)
        {
            Failure = ConnectionClosedException.FromErrno(-length, "recvmsg");
            return Outcome.Ended;
        }

        if (truncated)
        {
            foreach (var descriptor in ((ReadOnlySpan<int>)received)[..count])
            {
                close(descriptor);
            }

            Failure = new FrameFormatException(
                FrameError.TooManyDescriptors, $"a message carried more than {FrameHeader.MaxDescriptors} descriptors");
            return Outcome.Ended;
        }

        if (length == 0)
        {
            return Outcome.Ended;
        }

        // Queued before the bytes are flushed, so a frame's descriptors are always there by the time
        // the reader sees its header.
        if (count > 0)
        {
            descriptors.Add(_received, _received + length, ((ReadOnlySpan<int>)received)[..count]);
        }

        pipe.Advance(length);
        _received += length;
        return length < memory.Length ? Outcome.Drained : Outcome.Read;
    }

    private enum Outcome
    {
        /// <summary>Bytes came, as many as there was room for: there may be more.</summary>
        Read,

        /// <summary>Bytes came, fewer than there was room for: the socket had no more just then.</summary>
        Drained,
        Empty,
        Ended,
    }
}
