using System.Net.Sockets;
using GpuMux.Gpu.Kernels;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// A client that submits steps and never reads its socket fills the daemon's send buffer with its
/// completions. The engine thread sends completions itself when it can do so without waiting; were
/// such a send to wait for room, this client would hold the engine thread, and every other
/// session's steps with it.
/// </summary>
public sealed class SilentClientTests
{
    // Without the guarantee under test, the engine thread waits for this client forever: the
    // timeout turns that hang into a failure.
    private const int TimeoutMs = 60_000;

    // Far more completions than a Unix socket's send buffer holds (each small frame costs the
    // buffer its whole kernel allocation, not just its bytes).
    private const int SilentSteps = 5_000;

    [Fact(Timeout = TimeoutMs)]
    public async Task A_client_that_never_reads_its_completions_holds_up_no_other_session_and_is_released_when_it_closes()
    {
        await using var daemon = await TestDaemon.StartAsync($"--Limits:MaxInFlightStepsPerSession={SilentSteps}");
        await using var honest = await daemon.ConnectAsync("honest");
        var cancellation = TestContext.Current.CancellationToken;
        using var silent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await silent.ConnectAsync(new UnixDomainSocketEndPoint(daemon.SocketPath), cancellation);
        var steps = await GreetAndBuildStepsAsync(silent);

        var sending = silent.SendAsync(steps, cancellation);
        await daemon.WaitForStatusAsync(honest, status => SilentSession(status) is { } session && session.StepsCompleted + session.StepsFailed > 0);
        await Workloads.AxpyAsync(honest, seed: 21, steps: 20);
        await sending;

        // Every one of its steps has run, so the daemon has finished each one's completion, sent
        // or held for the client: the engine thread was never stuck on it.
        await daemon.WaitForStatusAsync(honest, status => SilentSession(status) is { } session && session.StepsCompleted + session.StepsFailed == SilentSteps);
        await Workloads.AxpyAsync(honest, seed: 22, steps: 20);

        silent.Close();
        await daemon.WaitForStatusAsync(honest, status => SilentSession(status) is null);
        await Workloads.GemvAsync(honest, seed: 23, steps: 2);
    }

    private static SessionEntry? SilentSession(StatusReport status) =>
        status.Sessions.Where(session => session.ClientName == "silent").Select(session => (SessionEntry?)session).FirstOrDefault();

    /// <summary>Says Hello, allocates a buffer and finds the fill kernel, then encodes that many fill steps back to back.</summary>
    private static async Task<byte[]> GreetAndBuildStepsAsync(Socket socket)
    {
        await AskAsync(socket, MessageType.Hello, Hello.ForThisVersion("silent"));
        var buffer = Message.Decode<HandleMessage>(await AskAsync(socket, MessageType.AllocateBuffer, new SizeMessage(4096))).Handle;
        var fill = Message.Decode<HandleMessage>(await AskAsync(socket, MessageType.GetFunction, new GetFunction(GetFunction.BuiltinModule, KernelNames.FillF32))).Handle;

        var step = new byte[256];
        var encoder = new StepEncoder(step);
        encoder.Launch(fill, 4, 1, 1, 256, 1, 1);
        encoder.BufferArgument(buffer);
        encoder.Argument(1.5f);
        encoder.Argument(1024UL);
        var length = encoder.Finish(requestId: 0);

        var steps = new byte[length * SilentSteps];
        for (var i = 0; i < SilentSteps; i++)
        {
            var frame = steps.AsSpan(i * length, length);
            step.AsSpan(0, length).CopyTo(frame);
            FrameHeader.TryRead(frame, out var header);
            new FrameHeader(header.PayloadLength, header.Type, 0, 0, (uint)(100 + i)).Write(frame);
        }

        return steps;
    }

    /// <summary>The payload of the reply to one request, read before any step is sent: the last thing this client reads.</summary>
    private static async Task<byte[]> AskAsync<T>(Socket socket, MessageType type, T message)
        where T : struct, IMessage<T>
    {
        await socket.SendAsync(RawFrames.Encode(type, 1, message), TestContext.Current.CancellationToken);
        var header = new byte[FrameHeader.Size];
        await ReceiveExactlyAsync(socket, header);
        FrameHeader.TryRead(header, out var read);
        var payload = new byte[read.PayloadLength];
        await ReceiveExactlyAsync(socket, payload);
        Assert.NotEqual((ushort)MessageType.Error, read.Type);
        return payload;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var received = await socket.ReceiveAsync(bytes, TestContext.Current.CancellationToken);
            Assert.True(received > 0, "the daemon closed the connection");
            bytes = bytes[received..];
        }
    }
}
