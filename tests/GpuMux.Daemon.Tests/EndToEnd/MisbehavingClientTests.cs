using System.Net.Sockets;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Bytes no honest client sends, each answered with a clear error, while an honest client on the
/// same daemon keeps getting correct results.
/// </summary>
public sealed class MisbehavingClientTests : IAsyncLifetime
{
    private TestDaemon _daemon = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _daemon = await TestDaemon.StartAsync();

    public async ValueTask DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task Garbage_bytes_are_a_protocol_violation_and_close_only_that_connection()
    {
        await WhileAnHonestClientWorksAsync(async () =>
        {
            var garbage = new byte[64];
            new Random(7).NextBytes(garbage);
            garbage[0] = 0x10;
            garbage[1] = garbage[2] = garbage[3] = 0;
            garbage[7] = 0xFF;
            var connection = await _daemon.ConnectSendingAsync(garbage);
            await using (connection)
            {

                var error = await RawFrames.ReadErrorAsync(connection);
                Assert.Equal(ErrorCode.ProtocolViolation, error.Code);
                Assert.True(await RawFrames.IsClosedAsync(connection));
            }
        });
    }

    [Fact]
    public async Task An_oversized_frame_is_refused_unread_and_the_connection_closed()
    {
        await WhileAnHonestClientWorksAsync(async () =>
        {
            var hello = RawFrames.Encode(MessageType.Hello, 1, Hello.ForThisVersion("oversized"));
            var connection = await _daemon.ConnectSendingAsync([.. hello, .. RawFrames.Header(payloadLength: 1 << 30, (ushort)MessageType.SubmitStep)]);
            await using (connection)
            {
                Assert.Equal((ushort)MessageType.Welcome, (await connection.ReadFrameAsync(Cancellation))!.Header.Type);

                var error = await RawFrames.ReadErrorAsync(connection);
                Assert.Equal(ErrorCode.FrameTooLarge, error.Code);
                Assert.True(await RawFrames.IsClosedAsync(connection));
            }
        });
    }

    [Fact]
    public async Task A_frame_cut_short_by_a_close_leaves_nothing_behind()
    {
        await WhileAnHonestClientWorksAsync(async () =>
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_daemon.SocketPath), Cancellation);
            var hello = RawFrames.Encode(MessageType.Hello, 1, Hello.ForThisVersion("truncated"));
            await socket.SendAsync(hello.AsMemory(0, hello.Length - 3), Cancellation);
            socket.Shutdown(SocketShutdown.Send);

            var reply = new byte[1024];
            var received = await socket.ReceiveAsync(reply, Cancellation);
            Assert.True(received > 0, "the daemon says why before it closes");
            Assert.Equal(0, await socket.ReceiveAsync(reply, Cancellation));
        });
    }

    [Fact]
    public async Task Steps_of_a_session_closed_for_its_protocol_violation_fail_saying_so_not_that_the_daemon_stops()
    {
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            await connection.SendAsync(RawFrames.Encode(MessageType.GetFunction, 2, new GetFunction(0, "spin")), Cancellation);
            var spin = Message.Decode<HandleMessage>((await connection.ReadFrameAsync(Cancellation))!.Payload.Span).Handle;
            // The steps behind the first, which spins, have not run when the session closes.
            foreach (var (id, microseconds) in new (uint, ulong)[] { (10, 200_000), (11, 1_000), (12, 1_000), (13, 1_000) })
            {
                await connection.SendAsync(SpinStep(id, spin, microseconds), Cancellation);
            }

            await connection.SendAsync(RawFrames.Header(payloadLength: 0, (ushort)MessageType.GetStatus, flags: 1, requestId: 14), Cancellation);
            var statuses = new Dictionary<uint, StepCompleted>();
            while (await ReadUntilClosedAsync(connection) is { } frame)
            {
                if (frame.Header.Type == (ushort)MessageType.StepCompleted)
                {
                    statuses[frame.Header.RequestId] = Message.Decode<StepCompleted>(frame.Payload.Span);
                }
            }

            Assert.Equal([10u, 11u, 12u, 13u], statuses.Keys.Order());
            Assert.Equal(ErrorCode.ProtocolViolation, statuses[13].Status);
            Assert.All(statuses.Values.Where(c => c.Status != ErrorCode.None), waited =>
            {
                Assert.Equal(ErrorCode.ProtocolViolation, waited.Status);
                Assert.Contains("closed for its protocol violation", waited.Message);
            });
        }
    }

    [Fact]
    public async Task A_payload_that_does_not_decode_is_malformed_and_the_session_carries_on()
    {
        await WhileAnHonestClientWorksAsync(async () =>
        {
            var connection = await _daemon.ConnectRawAsync();
            await using (connection)
            {
                await RawFrames.HelloAsync(connection);
                byte[] badStep = [.. RawFrames.Header(5, (ushort)MessageType.SubmitStep, requestId: 3), 0, 0, 1, 0, 0x2A];
                await connection.SendAsync(badStep, Cancellation);

                var error = await RawFrames.ReadErrorAsync(connection);
                Assert.Equal((ErrorCode.MalformedFrame, 3u), (error.Code, error.RequestId));

                await connection.SendAsync(RawFrames.Encode(MessageType.AllocateBuffer, 4, new SizeMessage(4096)), Cancellation);
                var reply = await connection.ReadFrameAsync(Cancellation);
                Assert.Equal(((ushort)MessageType.BufferAllocated, 4u), (reply!.Header.Type, reply.Header.RequestId));
            }
        });
    }

    [Fact]
    public async Task Requests_before_hello_need_the_handshake_and_it_can_still_follow()
    {
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await connection.SendAsync(RawFrames.Encode(MessageType.AllocateBuffer, 2, new SizeMessage(4096)), Cancellation);
            Assert.Equal(ErrorCode.HandshakeRequired, (await RawFrames.ReadErrorAsync(connection)).Code);

            await RawFrames.HelloAsync(connection);
            await connection.SendAsync(RawFrames.Encode(MessageType.Hello, 3, Hello.ForThisVersion("again")), Cancellation);
            Assert.Equal(ErrorCode.HandshakeRequired, (await RawFrames.ReadErrorAsync(connection)).Code);
        }
    }

    [Fact]
    public async Task A_reply_type_sent_to_the_daemon_is_an_unknown_message()
    {
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            await connection.SendAsync(RawFrames.Encode(MessageType.Welcome, 9, new EmptyMessage()), Cancellation);

            var error = await RawFrames.ReadErrorAsync(connection);
            Assert.Equal((ErrorCode.UnknownMessage, 9u), (error.Code, error.RequestId));
        }
    }

    [Fact]
    public async Task Another_major_version_is_unsupported_and_closed()
    {
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            var future = Hello.ForThisVersion("from the future") with { Major = 2 };
            await connection.SendAsync(RawFrames.Encode(MessageType.Hello, 1, future), Cancellation);

            var error = await RawFrames.ReadErrorAsync(connection);
            Assert.Equal(ErrorCode.UnsupportedVersion, error.Code);
            Assert.Contains($"{ProtocolVersion.Major}.{ProtocolVersion.Minor}", error.Text);
            Assert.True(await RawFrames.IsClosedAsync(connection));
        }
    }

    [Fact]
    public async Task Non_zero_header_flags_are_a_protocol_violation()
    {
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await connection.SendAsync(RawFrames.Header(0, (ushort)MessageType.GetStatus, flags: 1), Cancellation);

            Assert.Equal(ErrorCode.ProtocolViolation, (await RawFrames.ReadErrorAsync(connection)).Code);
            Assert.True(await RawFrames.IsClosedAsync(connection));
        }
    }

    [Fact]
    public async Task A_descriptor_on_a_frame_that_takes_none_is_a_protocol_violation()
    {
        using var file = Linux.MemoryFile.Create("stray", 4096);
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            var frame = RawFrames.Encode(MessageType.AllocateBuffer, 8, new SizeMessage(4096), descriptorCount: 1);
            await connection.SendAsync(frame, [file], Cancellation);

            Assert.Equal(ErrorCode.ProtocolViolation, (await RawFrames.ReadErrorAsync(connection)).Code);
            Assert.True(await RawFrames.IsClosedAsync(connection));
        }
    }

    private async Task WhileAnHonestClientWorksAsync(Func<Task> misbehave)
    {
        await using var honest = await _daemon.ConnectAsync("honest");
        var work = Task.Run(() => Workloads.AxpyAsync(honest, seed: 11, steps: 40), Cancellation);

        await misbehave();

        await work;
        await Workloads.GemvAsync(honest, seed: 12, steps: 2);
    }

    private static byte[] SpinStep(uint requestId, uint spin, ulong microseconds)
    {
        var frame = new byte[256];
        var encoder = new StepEncoder(frame);
        encoder.Launch(spin, 1, 1, 1, 32, 1, 1);
        encoder.Argument(microseconds);
        return frame[..encoder.Finish(requestId)];
    }

    /// <summary>The next frame, or null once the daemon has closed the connection.</summary>
    private static async Task<ReceivedFrame?> ReadUntilClosedAsync(FrameConnection connection)
    {
        try
        {
            return await connection.ReadFrameAsync(Cancellation);
        }
        catch (Exception e) when (e is IOException or SocketException or ConnectionClosedException)
        {
            return null;
        }
    }
}
