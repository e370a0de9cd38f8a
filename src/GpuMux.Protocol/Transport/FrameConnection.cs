using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Frames over a connected AF_UNIX stream socket, with file descriptors riding along (SCM_RIGHTS).
/// One reader at a time; sends from any number of threads, each frame whole.
/// </summary>
public sealed class FrameConnection : IAsyncDisposable
{
    // Frames are small (bulk data travels in shared memory), so 1 MiB of unread frames is plenty
    // of slack before the peer is held back. The reader runs inline on the receive loop's flush:
    // a frame is handled on the thread that received it, not after one more hop through the
    // thread pool, and the reader gives the thread back at its first wait.
    private static readonly PipeOptions ReceiveOptions = new(
        readerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 1 << 20,
        resumeWriterThreshold: 1 << 19,
        minimumSegmentSize: 16 << 10,
        useSynchronizationContext: false);

    private readonly Socket _socket;
    private readonly Pipe _received = new(ReceiveOptions);
    private readonly DescriptorQueue _descriptors = new();
    private readonly FrameReader _reader;
    private readonly FrameSender _sender;
    private readonly CancellationTokenSource _aborted = new();
    private readonly SemaphoreSlim _readTurn = new(1, 1);
    private readonly Task _receiving;
    private int _abortStarted;
    private int _disposeStarted;

    public FrameConnection(Socket connected, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(connected);
        if (connected.AddressFamily != AddressFamily.Unix || connected.SocketType != SocketType.Stream)
        {
            throw new ArgumentException("a frame connection runs over an AF_UNIX stream socket", nameof(connected));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(maxPayloadBytes);
        _socket = connected;
        Peer = PeerCredentials.Read(connected);
        var receiver = new SocketReceiver(connected, _received.Writer, _descriptors);
        _reader = new FrameReader(_received.Reader, _descriptors, receiver) { MaxPayloadBytes = maxPayloadBytes };
        _sender = new FrameSender(connected, _aborted.Token, Abort);
        _receiving = receiver.RunAsync(_aborted.Token);
    }

    public PeerCredentials Peer { get; }

    /// <summary>The peer process's supplementary groups, as the kernel recorded them when it connected (SO_PEERGROUPS).</summary>
    /// <exception cref="SocketException">The kernel does not say (before Linux 4.13), or the connection is closed.</exception>
    public IReadOnlyList<uint> ReadPeerGroups() => PeerCredentials.ReadGroups(_socket);

    /// <summary>The largest payload a received header may announce; a larger one is a <see cref="FrameError.TooLarge"/>.</summary>
    public int MaxPayloadBytes
    {
        get => _reader.MaxPayloadBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _reader.MaxPayloadBytes = value;
        }
    }

    public static async Task<FrameConnection> ConnectAsync(string socketPath, int maxPayloadBytes, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new FrameConnection(socket, maxPayloadBytes);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The next frame, or null at an orderly end of stream. The frame object is reused: it is valid
    /// until the next call, which also closes the descriptors it held that were not taken.
    /// </summary>
    /// <exception cref="FrameFormatException">The peer broke the framing; the stream cannot be read further.</exception>
    /// <exception cref="ConnectionClosedException">The connection was reset, aborted, or failed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReceivedFrame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfAborted();
        await _readTurn.WaitAsync(cancellationToken);
        try
        {
            ThrowIfAborted();
            return await _reader.ReadAsync(cancellationToken);
        }
        finally
        {
            _readTurn.Release();
        }
    }

    /// <summary>Sends one encoded frame (header and payload) that carries no descriptors.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default) =>
        SendAsync(frame, [], cancellationToken);

    /// <summary>
    /// Sends one encoded frame with the descriptors its header announces. The descriptors stay the
    /// caller's: the peer receives duplicates. Cancelling a send that has begun aborts the connection,
    /// since the peer could no longer find where the next frame starts.
    /// </summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> frame, IReadOnlyList<SafeHandle> descriptors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        CheckFrame(frame.Span, descriptors.Count);
        return _sender.SendAsync(frame, descriptors, cancellationToken);
    }

    /// <summary>
    /// Sends one encoded frame that carries no descriptors now, on the calling thread, if that needs
    /// no wait; false, with nothing sent, when it would (another send is under way, the socket buffer
    /// is full) or the connection is closed. Never blocks, so a thread that must not wait on a peer
    /// can try this and queue the frame for an awaited <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> when it fails.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        CheckFrame(frame, 0);
        return _sender.TrySend(frame);
    }

    /// <summary>Closes the connection now: reads and sends in progress fail with <see cref="ConnectionClosedReason.Aborted"/>.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _abortStarted, 1) != 0)
        {
            return;
        }

        _aborted.Cancel();
        _received.Reader.CancelPendingRead();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already disconnected: closing is all that is left to do.
        }

        _socket.Dispose();
    }

    /// <summary>Lets a send in progress finish, then closes, releasing every descriptor still held.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            return;
        }

        await _sender.CloseAsync();
        Abort();
        await _receiving;
        await _readTurn.WaitAsync();
        _reader.Close();
        _descriptors.CloseAll();
        _readTurn.Release();
    }

    private void ThrowIfAborted()
    {
        if (Volatile.Read(ref _abortStarted) != 0)
        {
            throw ConnectionClosedException.Aborted();
        }
    }

    private static void CheckFrame(ReadOnlySpan<byte> frame, int descriptorCount)
    {
        if (!FrameHeader.TryRead(frame, out var header) || header.PayloadLength != frame.Length - FrameHeader.Size)
        {
            throw new ArgumentException("the buffer must hold exactly one encoded frame", nameof(frame));
        }

        if (header.DescriptorCount != descriptorCount || descriptorCount > FrameHeader.MaxDescriptors)
        {
            throw new ArgumentException(
                $"the header announces {header.DescriptorCount} descriptors and {descriptorCount} were given (at most {FrameHeader.MaxDescriptors})",
                "descriptors");
        }
    }
}
