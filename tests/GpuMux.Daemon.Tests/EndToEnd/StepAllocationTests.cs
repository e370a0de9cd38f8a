using System.Net.Sockets;
using GpuMux.Gpu.Kernels;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// The daemon's step path allocates nothing once warm: SubmitStep read, decoded and queued, the step
/// run on the engine thread, StepCompleted encoded and sent. The client is a blocking socket with
/// buffers made up front, so that what the process allocates while it runs is the daemon's.
/// </summary>
/// <remarks>
/// A count, not a time. The test runs alone: allocations are counted for the whole process. Any
/// object is at least 24 bytes, so fewer bytes than steps means no step allocated; the slack is for
/// the daemon's timers, which may fire once or twice while the steps run, and
/// <see cref="AllocationCount"/> leaves the thread pool's growth out.
/// </remarks>
[Collection(nameof(StepAllocationTests))]
public sealed class StepAllocationTests
{
    private const int WarmUpSteps = 2_000;
    // Enough that the process's own rare allocations (a timer's callback) stay under a byte a step,
    // where one object a step is 24 at least.
    private const int CountedSteps = 20_000;

    [Fact]
    public async Task A_warm_session_runs_steps_without_allocating_in_the_daemon()
    {
        await using var daemon = await TestDaemon.StartAsync();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Connected without the socket engine, the socket stays blocking, and a receive is one recv
        // call; on a non-blocking one, each receive that waits allocates its operation.
        socket.Connect(new UnixDomainSocketEndPoint(daemon.SocketPath));
        var client = new BlockingClient(socket);

        Assert.Equal(MessageType.Welcome, client.Ask(MessageType.Hello, Hello.ForThisVersion("allocations")).Type);
        var buffer = Message.Decode<HandleMessage>(client.Ask(MessageType.AllocateBuffer, new SizeMessage(4096)).Payload).Handle;
        var fill = Message.Decode<HandleMessage>(client.Ask(MessageType.GetFunction, new GetFunction(GetFunction.BuiltinModule, KernelNames.FillF32)).Payload).Handle;
        var step = FillStep(buffer, fill);

        client.RunSteps(step, WarmUpSteps);
        var allocated = await AllocationCount.LeastAsync(
            () =>
            {
                client.RunSteps(step, CountedSteps);
                return Task.CompletedTask;
            },
            CountedSteps);

        Assert.True(allocated < CountedSteps, $"{CountedSteps} steps allocated {allocated} bytes at the least of the counts the thread pool left alone ({(double)allocated / CountedSteps:F1} per step)");
    }

    private static byte[] FillStep(uint buffer, uint function)
    {
        var frame = new byte[256];
        var encoder = new StepEncoder(frame);
        encoder.Launch(function, 4, 1, 1, 256, 1, 1);
        encoder.BufferArgument(buffer);
        encoder.Argument(1.5f);
        encoder.Argument(1024UL);
        return frame[..encoder.Finish(requestId: 0)];
    }

    /// <summary>Request and reply, one at a time, on the test's thread: nothing allocated per step.</summary>
    private sealed class BlockingClient(Socket socket)
    {
        private readonly byte[] _reply = new byte[64 << 10];
        private uint _lastId;

        public (MessageType Type, byte[] Payload) Ask<T>(MessageType type, T message)
            where T : struct, IMessage<T>
        {
            socket.Send(RawFrames.Encode(type, ++_lastId, message));
            var header = Receive();
            return ((MessageType)header.Type, _reply.AsSpan(FrameHeader.Size, (int)header.PayloadLength).ToArray());
        }

        public void RunSteps(byte[] step, int count)
        {
            for (var i = 0; i < count; i++)
            {
                FrameHeader.TryRead(step, out var sent);
                new FrameHeader(sent.PayloadLength, sent.Type, 0, 0, ++_lastId).Write(step);
                socket.Send(step);
                var header = Receive();
                if ((MessageType)header.Type != MessageType.StepCompleted || header.RequestId != _lastId)
                {
                    Assert.Fail($"step {_lastId} was answered with {(MessageType)header.Type} to {header.RequestId}");
                }

                var completed = Message.Decode<StepCompleted>(_reply.AsSpan(FrameHeader.Size, (int)header.PayloadLength));
                if (completed.Status != ErrorCode.None)
                {
                    Assert.Fail($"step {_lastId} failed: {completed.Status}");
                }
            }
        }

        private FrameHeader Receive()
        {
            ReceiveExactly(_reply.AsSpan(0, FrameHeader.Size));
            FrameHeader.TryRead(_reply, out var header);
            ReceiveExactly(_reply.AsSpan(FrameHeader.Size, (int)header.PayloadLength));
            return header;
        }

        private void ReceiveExactly(Span<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                var received = socket.Receive(bytes);
                Assert.True(received > 0, "the daemon closed the connection");
                bytes = bytes[received..];
            }
        }
    }
}

[CollectionDefinition(nameof(StepAllocationTests), DisableParallelization = true)]
public sealed class StepAllocationCollection;
