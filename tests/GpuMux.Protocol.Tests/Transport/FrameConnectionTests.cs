using System.Buffers.Binary;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Transport;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Tests.Transport;

public sealed class FrameConnectionTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Frames_round_trip_both_ways()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;

        int[] sizes = [0, 1, 11, 12, 5000, 70000];
        for (var i = 0; i < sizes.Length; i++)
        {
            await client.SendAsync(TestFrames.Encode(0x10, (uint)i, TestFrames.Payload(sizes[i], i)), Cancellation);
        }

        for (var i = 0; i < sizes.Length; i++)
        {
            var frame = await server.ReadFrameAsync(Cancellation);
            Assert.NotNull(frame);
            Assert.Equal(new FrameHeader((uint)sizes[i], 0x10, 0, 0, (uint)i), frame.Header);
            Assert.Equal(TestFrames.Payload(sizes[i], i), frame.Payload.ToArray());
            await server.SendAsync(TestFrames.Encode(0x8010, (uint)i, frame.Payload.Span), Cancellation);
        }

        for (var i = 0; i < sizes.Length; i++)
        {
            var reply = await client.ReadFrameAsync(Cancellation);
            Assert.NotNull(reply);
            Assert.Equal((uint)i, reply.Header.RequestId);
            Assert.Equal(TestFrames.Payload(sizes[i], i), reply.Payload.ToArray());
        }
    }

    [Fact]
    public async Task Peer_credentials_are_those_of_the_process_at_the_other_end()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;

        Assert.Equal(new PeerCredentials(Environment.ProcessId, getuid(), getgid()), server.Peer);
        Assert.Equal(server.Peer, client.Peer);
    }

    [Fact]
    public async Task Peer_groups_are_the_supplementary_groups_of_the_process_at_the_other_end()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;

        Assert.Equal(SupplementaryGroups().Order(), server.ReadPeerGroups().Order());
    }

    [Fact]
    public async Task An_orderly_close_between_frames_reads_as_the_end()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = server;

        await client.SendAsync(TestFrames.Encode(1, 7, [1, 2, 3]), Cancellation);
        await client.DisposeAsync();

        Assert.NotNull(await server.ReadFrameAsync(Cancellation));
        Assert.Null(await server.ReadFrameAsync(Cancellation));
        Assert.Null(await server.ReadFrameAsync(Cancellation));
    }

    [Fact]
    public async Task Concurrent_senders_never_interleave_their_frames()
    {
        const int senders = 8;
        const int framesEach = 200;
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;

        var sending = Enumerable.Range(0, senders).Select(sender => Task.Run(
            async () =>
            {
                for (var sequence = 0; sequence < framesEach; sequence++)
                {
                    var payload = TestFrames.Payload(100 + (sequence * 37 % 3000), (sender * framesEach) + sequence);
                    var frame = TestFrames.Encode((ushort)sender, (uint)sequence, payload);
                    await client.SendAsync(frame, Cancellation);
                }
            },
            Cancellation)).ToArray();

        var next = new int[senders];
        for (var i = 0; i < senders * framesEach; i++)
        {
            var frame = await server.ReadFrameAsync(Cancellation);
            Assert.NotNull(frame);
            var sender = frame.Header.Type;
            var sequence = (int)frame.Header.RequestId;
            Assert.Equal(next[sender]++, sequence);
            Assert.Equal(TestFrames.Payload(100 + (sequence * 37 % 3000), (sender * framesEach) + sequence), frame.Payload.ToArray());
        }

        await Task.WhenAll(sending);
    }

    [Fact]
    public async Task A_frame_larger_than_the_receive_window_arrives_whole()
    {
        const int length = 4 << 20;
        var (client, server) = SocketPairs.Connections(maxPayloadBytes: 8 << 20);
        await using var _ = client;
        await using var __ = server;

        var payload = TestFrames.Payload(length, 5);
        var sending = client.SendAsync(TestFrames.Encode(2, 9, payload), Cancellation).AsTask();
        var frame = await server.ReadFrameAsync(Cancellation);
        await sending;

        Assert.NotNull(frame);
        Assert.Equal((uint)length, frame.Header.PayloadLength);
        Assert.True(payload.AsSpan().SequenceEqual(frame.Payload.Span));
    }

    [Fact]
    public async Task Raising_the_payload_limit_admits_larger_frames()
    {
        var (client, server) = SocketPairs.Connections(maxPayloadBytes: 100);
        await using var _ = client;
        await using var __ = server;

        server.MaxPayloadBytes = 1000;
        await client.SendAsync(TestFrames.Encode(3, 1, TestFrames.Payload(1000, 1)), Cancellation);

        var frame = await server.ReadFrameAsync(Cancellation);
        Assert.Equal(1000, frame?.Payload.Length);
    }

    [Fact]
    public async Task Abort_fails_a_pending_read_and_later_sends()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;

        var reading = server.ReadFrameAsync(Cancellation).AsTask();
        server.Abort();

        var read = await Assert.ThrowsAsync<ConnectionClosedException>(() => reading);
        Assert.Equal(ConnectionClosedReason.Aborted, read.Reason);
        var send = await Assert.ThrowsAsync<ConnectionClosedException>(
            () => server.SendAsync(TestFrames.Encode(1, 1, []), Cancellation).AsTask());
        Assert.Equal(ConnectionClosedReason.Aborted, send.Reason);

        server.Abort();
        await server.DisposeAsync();
        await server.DisposeAsync();
        Assert.Null(await client.ReadFrameAsync(Cancellation));
    }

    [Fact]
    public async Task A_peer_that_closes_with_data_unread_resets_the_connection()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;

        await connection.SendAsync(TestFrames.Encode(1, 1, [1, 2, 3]), Cancellation);
        peer.Dispose();

        var read = await Assert.ThrowsAsync<ConnectionClosedException>(() => connection.ReadFrameAsync(Cancellation).AsTask());
        Assert.Equal(ConnectionClosedReason.Reset, read.Reason);
        var send = await Assert.ThrowsAsync<ConnectionClosedException>(
            () => connection.SendAsync(TestFrames.Encode(1, 2, []), Cancellation).AsTask());
        Assert.Equal(ConnectionClosedReason.Reset, send.Reason);
    }

    [Fact]
    public async Task Frames_that_arrived_before_a_reset_are_read_first()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;

        await connection.SendAsync(TestFrames.Encode(1, 1, [1, 2, 3]), Cancellation);
        peer.Send(TestFrames.Encode(0x8000, 1, [4, 5]));
        peer.Dispose();

        Assert.Equal(new byte[] { 4, 5 }, (await connection.ReadFrameAsync(Cancellation))?.Payload.ToArray());
        var read = await Assert.ThrowsAsync<ConnectionClosedException>(() => connection.ReadFrameAsync(Cancellation).AsTask());
        Assert.Equal(ConnectionClosedReason.Reset, read.Reason);
    }

    [Fact]
    public async Task A_send_must_hold_exactly_one_frame_with_the_descriptors_it_announces()
    {
        var (client, server) = SocketPairs.Connections();
        await using var _ = client;
        await using var __ = server;
        using var file = TestDescriptors.MemoryFileWith("x");

        var frame = TestFrames.Encode(1, 1, [1, 2, 3]);
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(frame.AsMemory(0, 14), Cancellation).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(frame, [file], Cancellation).AsTask());
        var announcing = TestFrames.Encode(1, 1, [], descriptorCount: 1);
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(announcing, Cancellation).AsTask());
    }

    [Fact]
    public async Task A_received_header_is_checked_before_its_payload_arrives()
    {
        var (connection, peer) = SocketPairs.WithRawPeer(maxPayloadBytes: 4096);
        await using var _ = connection;
        using var __ = peer;

        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 4097);
        peer.Send(header);

        var error = await Assert.ThrowsAsync<FrameFormatException>(() => connection.ReadFrameAsync(Cancellation).AsTask());
        Assert.Equal(FrameError.TooLarge, error.Reason);
    }

    private static unsafe uint[] SupplementaryGroups()
    {
        var count = getgroups(0, null);
        var groups = new uint[count];
        fixed (uint* list = groups)
        {
            count = getgroups(count, (Tmds.Linux.gid_t*)list);
        }

        return groups[..count];
    }
}
