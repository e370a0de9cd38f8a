using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// The request id of the Error before a close (docs/protocol.md §2): 0 for a verdict on the byte
/// stream, the frame's own id when one whole frame was wrong for its type.
/// </summary>
public sealed class ClosingErrorTests : IAsyncLifetime
{
    private TestDaemon _daemon = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _daemon = await TestDaemon.StartAsync();

    public async ValueTask DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task A_region_sent_without_its_descriptor_is_a_violation_answered_with_its_own_id()
    {
        var error = await SendAndReadClosingErrorAsync(RawFrames.Encode(MessageType.RegisterRegion, 21, new SizeMessage(4096)));

        Assert.Equal((ErrorCode.ProtocolViolation, 21u), (error.Code, error.RequestId));
    }

    [Fact]
    public async Task A_descriptor_announced_that_never_arrives_is_a_violation_answered_with_id_0()
    {
        var error = await SendAndReadClosingErrorAsync(RawFrames.Encode(MessageType.RegisterRegion, 22, new SizeMessage(4096), descriptorCount: 1));

        Assert.Equal((ErrorCode.ProtocolViolation, 0u), (error.Code, error.RequestId));
    }

    [Fact]
    public async Task Non_zero_header_flags_are_a_violation_answered_with_id_0()
    {
        var error = await SendAndReadClosingErrorAsync(RawFrames.Header(0, (ushort)MessageType.GetStatus, flags: 1, requestId: 23));

        Assert.Equal((ErrorCode.ProtocolViolation, 0u), (error.Code, error.RequestId));
    }

    [Fact]
    public async Task A_payload_over_the_limit_is_too_large_and_answered_with_id_0()
    {
        var error = await SendAndReadClosingErrorAsync(RawFrames.Header(1 << 30, (ushort)MessageType.GetStatus, requestId: 24));

        Assert.Equal((ErrorCode.FrameTooLarge, 0u), (error.Code, error.RequestId));
    }

    private async Task<(ErrorCode Code, string Text, uint RequestId)> SendAndReadClosingErrorAsync(byte[] frame)
    {
        // Sent unchecked, since the transport refuses to send such frames.
        var hello = RawFrames.Encode(MessageType.Hello, 1, Hello.ForThisVersion("closing"));
        await using var connection = await _daemon.ConnectSendingAsync([.. hello, .. frame]);
        Assert.Equal((ushort)MessageType.Welcome, (await connection.ReadFrameAsync(Cancellation))!.Header.Type);
        var error = await RawFrames.ReadErrorAsync(connection);
        Assert.True(await RawFrames.IsClosedAsync(connection));
        return error;
    }
}
