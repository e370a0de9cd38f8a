using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Transport;

namespace GpuMux.Protocol.Tests.Transport;

public sealed class FrameFormatTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_stream_that_ends_inside_a_header_is_truncated()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, [])[..5]);
        peer.ShutdownWrite();

        await AssertViolation(connection, FrameError.Truncated);
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_payload_is_truncated()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, TestFrames.Payload(100, 1))[..60]);
        peer.ShutdownWrite();

        await AssertViolation(connection, FrameError.Truncated);
    }

    [Fact]
    public async Task A_payload_over_the_limit_is_too_large()
    {
        var (connection, peer) = SocketPairs.WithRawPeer(maxPayloadBytes: 64);
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, TestFrames.Payload(64, 1)));
        peer.Send(TestFrames.Encode(1, 2, TestFrames.Payload(65, 2)));

        Assert.Equal(64, (await connection.ReadFrameAsync(Cancellation))?.Payload.Length);
        await AssertViolation(connection, FrameError.TooLarge);
    }

    [Fact]
    public async Task Flags_other_than_zero_are_refused()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, [], flags: 1));

        await AssertViolation(connection, FrameError.BadFlags);
    }

    [Fact]
    public async Task A_header_announcing_more_than_four_descriptors_is_refused()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, [], descriptorCount: 5));

        await AssertViolation(connection, FrameError.TooManyDescriptors);
    }

    [Fact]
    public async Task More_than_four_descriptors_in_one_message_are_refused()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;
        var files = Enumerable.Range(0, 5).Select(i => TestDescriptors.MemoryFileWith($"{i}")).ToArray();

        peer.SendWithDescriptors(TestFrames.Encode(1, 1, [], descriptorCount: 4), files);
        Array.ForEach(files, file => file.Dispose());

        await AssertViolation(connection, FrameError.TooManyDescriptors);
    }

    [Fact]
    public async Task A_frame_whose_descriptors_did_not_come_is_missing_them()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, [], descriptorCount: 1));

        await AssertViolation(connection, FrameError.MissingDescriptors);
    }

    [Fact]
    public async Task A_frame_with_fewer_descriptors_than_announced_is_missing_them()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;
        using var file = TestDescriptors.MemoryFileWith("one");

        peer.SendWithDescriptors(TestFrames.Encode(1, 1, [], descriptorCount: 2), file);

        await AssertViolation(connection, FrameError.MissingDescriptors);
    }

    [Fact]
    public async Task A_frame_with_more_descriptors_than_announced_is_refused()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;
        using var first = TestDescriptors.MemoryFileWith("1");
        using var second = TestDescriptors.MemoryFileWith("2");

        peer.SendWithDescriptors(TestFrames.Encode(1, 1, [], descriptorCount: 1), first, second);

        await AssertViolation(connection, FrameError.TooManyDescriptors);
    }

    [Fact]
    public async Task Descriptors_on_a_frame_that_announced_none_are_refused_at_the_next_frame()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;
        using var file = TestDescriptors.MemoryFileWith("stray");

        peer.SendWithDescriptors(TestFrames.Encode(1, 1, [9]), file);
        peer.Send(TestFrames.Encode(1, 2, []));

        Assert.Equal(0, (await connection.ReadFrameAsync(Cancellation))?.DescriptorCount);
        await AssertViolation(connection, FrameError.TooManyDescriptors);
    }

    [Fact]
    public async Task After_a_violation_the_stream_stays_refused()
    {
        var (connection, peer) = SocketPairs.WithRawPeer();
        await using var _ = connection;
        using var __ = peer;

        peer.Send(TestFrames.Encode(1, 1, [], flags: 2));
        peer.Send(TestFrames.Encode(1, 2, []));

        await AssertViolation(connection, FrameError.BadFlags);
        await AssertViolation(connection, FrameError.BadFlags);
    }

    private static async Task AssertViolation(FrameConnection connection, FrameError reason)
    {
        var error = await Assert.ThrowsAsync<FrameFormatException>(() => connection.ReadFrameAsync(Cancellation).AsTask());
        Assert.Equal(reason, error.Reason);
    }
}
