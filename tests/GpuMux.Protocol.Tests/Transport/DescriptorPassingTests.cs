using System.Net.Sockets;
using GpuMux.Linux;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Transport;

namespace GpuMux.Protocol.Tests.Transport;

public sealed class DescriptorPassingTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_memory_file_arrives_with_the_bytes_written_into_it()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;
        using var file = TestDescriptors.MemoryFileWith("weights of layer 0");

        await client.SendAsync(TestFrames.Encode(0x20, 5, [7], descriptorCount: 1), [file], Cancellation);
        var frame = await server.ReadFrameAsync(Cancellation);

        Assert.NotNull(frame);
        Assert.Equal(1, frame.DescriptorCount);
        using var received = frame.TakeDescriptor(0);
        Assert.Equal("weights of layer 0", TestDescriptors.ReadText(received));
        Assert.False(file.IsClosed);
    }

    [Fact]
    public async Task Each_frame_gets_its_own_descriptors_among_many_plain_frames()
    {
        const int frames = 400;
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;

        var sending = Task.Run(
            async () =>
            {
                for (var i = 0; i < frames; i++)
                {
                    var count = DescriptorsOf(i);
                    var files = Enumerable.Range(0, count).Select(d => TestDescriptors.MemoryFileWith(Label(i, d))).ToArray();
                    try
                    {
                        await client.SendAsync(TestFrames.Encode(1, (uint)i, TestFrames.Payload(i * 13 % 2000, i), (byte)count), files, Cancellation);
                    }
                    finally
                    {
                        Array.ForEach(files, file => file.Dispose());
                    }
                }
            },
            Cancellation);

        for (var i = 0; i < frames; i++)
        {
            var frame = await server.ReadFrameAsync(Cancellation);
            Assert.NotNull(frame);
            AssertFrame(frame, i);
        }

        await sending;
    }

    [Fact]
    public async Task Raw_writes_small_and_large_keep_descriptors_with_their_frames()
    {
        // Exercises the zero-byte receive then recvmsg loop against every way a stream can be cut:
        // one byte at a time, pieces spanning several frames, and descriptors on short first pieces.
        const int frames = 300;
        var random = new Random(1234);
        var encoded = new List<(byte[] Bytes, MemoryFile[] Files)>();
        for (var i = 0; i < frames; i++)
        {
            var count = DescriptorsOf(i);
            var length = random.Next(4) == 0 ? random.Next(20_000, 70_000) : random.Next(0, 300);
            var files = Enumerable.Range(0, count).Select(d => TestDescriptors.MemoryFileWith(Label(i, d))).ToArray();
            encoded.Add((TestFrames.Encode(1, (uint)i, TestFrames.Payload(length, i), (byte)count), files));
        }

        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;
        var sending = Task.Run(() => SendInPieces(peer, encoded, new Random(99)), Cancellation);

        for (var i = 0; i < frames; i++)
        {
            var frame = await connection.ReadFrameAsync(Cancellation);
            Assert.NotNull(frame);
            Assert.Equal(TestFrames.Payload((int)frame.Header.PayloadLength, i), frame.Payload.ToArray());
            AssertFrame(frame, i);
        }

        await sending;
        peer.ShutdownWrite();
        Assert.Null(await connection.ReadFrameAsync(Cancellation));
    }

    [Fact]
    public async Task A_descriptor_send_waits_for_room_when_the_socket_buffer_is_full()
    {
        var (sender, receiver) = SocketPairs.Sockets();
        var queued = FillSendBuffer(sender);
        await using var client = new FrameConnection(sender, SocketPairs.DefaultMaxPayload);
        using var file = TestDescriptors.MemoryFileWith("after the queue");
        var sending = client.SendAsync(TestFrames.Encode(1, 1, [], descriptorCount: 1), [file], Cancellation).AsTask();
        Assert.False(sending.IsCompleted);

        await using var server = new FrameConnection(receiver, SocketPairs.DefaultMaxPayload);
        for (var i = 0; i < queued; i++)
        {
            var filler = await server.ReadFrameAsync(Cancellation);
            Assert.Equal(FillerType, filler?.Header.Type ?? 0);
        }

        var frame = await server.ReadFrameAsync(Cancellation);
        await sending;
        Assert.NotNull(frame);
        using var received = frame.TakeDescriptor(0);
        Assert.Equal("after the queue", TestDescriptors.ReadText(received));
    }

    [Fact]
    public async Task A_descriptor_send_cancelled_while_waiting_for_room_leaves_the_connection_usable()
    {
        var (sender, receiver) = SocketPairs.Sockets();
        var queued = FillSendBuffer(sender);
        await using var client = new FrameConnection(sender, SocketPairs.DefaultMaxPayload);
        using var file = TestDescriptors.MemoryFileWith("second try");
        var frame = TestFrames.Encode(1, 1, [], descriptorCount: 1);
        using var cancel = new CancellationTokenSource();
        var sending = client.SendAsync(frame, [file], cancel.Token).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);

        await using var server = new FrameConnection(receiver, SocketPairs.DefaultMaxPayload);
        for (var i = 0; i < queued; i++)
        {
            await server.ReadFrameAsync(Cancellation);
        }

        await client.SendAsync(frame, [file], Cancellation);
        var received = await server.ReadFrameAsync(Cancellation);
        Assert.NotNull(received);
        using var descriptor = received.TakeDescriptor(0);
        Assert.Equal("second try", TestDescriptors.ReadText(descriptor));
    }

    [Fact]
    public async Task Aborting_ends_a_descriptor_send_waiting_for_room()
    {
        var (sender, receiver) = SocketPairs.Sockets();
        using var _ = receiver;
        FillSendBuffer(sender);
        await using var client = new FrameConnection(sender, SocketPairs.DefaultMaxPayload);
        using var file = TestDescriptors.MemoryFileWith("never sent");
        var sending = client.SendAsync(TestFrames.Encode(1, 1, [], descriptorCount: 1), [file], Cancellation).AsTask();

        client.Abort();

        var error = await Assert.ThrowsAsync<ConnectionClosedException>(() => sending);
        Assert.Equal(ConnectionClosedReason.Aborted, error.Reason);
    }

    [Fact]
    public async Task Descriptors_not_taken_are_closed_by_the_next_read()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;
        var (readEnd, writeEnd) = TestDescriptors.Pipe();
        using var ___ = readEnd;

        await client.SendAsync(TestFrames.Encode(1, 1, [], descriptorCount: 1), [writeEnd], Cancellation);
        writeEnd.Dispose();
        await client.SendAsync(TestFrames.Encode(1, 2, []), Cancellation);

        Assert.Equal(1, (await server.ReadFrameAsync(Cancellation))?.DescriptorCount);
        Assert.False(TestDescriptors.AllWritersClosed(readEnd));
        await server.ReadFrameAsync(Cancellation);
        Assert.True(TestDescriptors.AllWritersClosed(readEnd));
    }

    [Fact]
    public async Task A_taken_descriptor_belongs_to_the_taker()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;
        var (readEnd, writeEnd) = TestDescriptors.Pipe();
        using var ___ = readEnd;

        await client.SendAsync(TestFrames.Encode(1, 1, [], descriptorCount: 1), [writeEnd], Cancellation);
        writeEnd.Dispose();
        await client.SendAsync(TestFrames.Encode(1, 2, []), Cancellation);

        var frame = await server.ReadFrameAsync(Cancellation);
        Assert.NotNull(frame);
        var taken = frame.TakeDescriptor(0);
        Assert.Throws<InvalidOperationException>(() => frame.TakeDescriptor(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => frame.TakeDescriptor(1));
        await server.ReadFrameAsync(Cancellation);
        Assert.False(TestDescriptors.AllWritersClosed(readEnd));

        taken.Dispose();
        Assert.True(TestDescriptors.AllWritersClosed(readEnd));
    }

    [Fact]
    public async Task Disposing_the_connection_closes_descriptors_not_taken()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        var (readEnd, writeEnd) = TestDescriptors.Pipe();
        using var __ = readEnd;

        await client.SendAsync(TestFrames.Encode(1, 1, [], descriptorCount: 1), [writeEnd], Cancellation);
        writeEnd.Dispose();
        Assert.NotNull(await server.ReadFrameAsync(Cancellation));

        await server.DisposeAsync();
        Assert.True(TestDescriptors.AllWritersClosed(readEnd));
    }

    private const ushort FillerType = 9;

    /// <summary>Queues header-only frames until the socket takes no more (a 12-byte write is all or nothing); returns how many.</summary>
    private static int FillSendBuffer(Socket socket)
    {
        var filler = TestFrames.Encode(FillerType, 0, []);
        var queued = 0;
        socket.Blocking = false;
        while (socket.Send(filler, SocketFlags.None, out var error) == filler.Length && error == SocketError.Success)
        {
            queued++;
        }

        return queued;
    }

    private static int DescriptorsOf(int frame) => frame % 3 == 0 ? 0 : (frame % FrameHeader.MaxDescriptors) + 1;

    private static string Label(int frame, int descriptor) => $"frame {frame} descriptor {descriptor}";

    private static void AssertFrame(ReceivedFrame frame, int index)
    {
        Assert.Equal((uint)index, frame.Header.RequestId);
        Assert.Equal(DescriptorsOf(index), frame.DescriptorCount);
        for (var d = 0; d < frame.DescriptorCount; d++)
        {
            using var descriptor = frame.TakeDescriptor(d);
            Assert.Equal(Label(index, d), TestDescriptors.ReadText(descriptor));
        }
    }

    /// <summary>
    /// Writes the frames cut at random: a frame with descriptors starts a sendmsg of 1 byte to all
    /// of it; plain bytes go in pieces of 1 to 7 bytes or up to 100 kB, across frame boundaries,
    /// up to the next frame with descriptors.
    /// </summary>
    private static void SendInPieces(RawPeer peer, List<(byte[] Bytes, MemoryFile[] Files)> frames, Random random)
    {
        var stream = frames.SelectMany(frame => frame.Bytes).ToArray();
        var starts = new List<(int Offset, MemoryFile[] Files)>();
        var offset = 0;
        foreach (var (bytes, files) in frames)
        {
            starts.Add((offset, files));
            offset += bytes.Length;
        }

        var position = 0;
        var next = 0;
        while (position < stream.Length)
        {
            while (next < starts.Count && starts[next].Offset < position)
            {
                next++;
            }

            if (next < starts.Count && starts[next].Offset == position && starts[next].Files.Length > 0)
            {
                var frameLength = frames[next].Bytes.Length;
                var piece = random.Next(1, frameLength + 1);
                var files = starts[next].Files;
                peer.SendWithDescriptors(stream.AsSpan(position, piece), files);
                Array.ForEach(files, file => file.Dispose());
                position += piece;
                next++;
                continue;
            }

            var limit = NextDescriptorFrame(starts, next, position) - position;
            var size = random.Next(2) == 0 ? random.Next(1, 8) : random.Next(1, 100_000);
            var length = Math.Min(size, Math.Min(limit, stream.Length - position));
            peer.Send(stream.AsSpan(position, length));
            position += length;
        }
    }

    private static int NextDescriptorFrame(List<(int Offset, MemoryFile[] Files)> starts, int from, int position)
    {
        for (var i = from; i < starts.Count; i++)
        {
            if (starts[i].Offset > position && starts[i].Files.Length > 0)
            {
                return starts[i].Offset;
            }
        }

        return int.MaxValue;
    }
}
