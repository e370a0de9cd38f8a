using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.Client;

/// <summary>The client against a daemon played by the test, for what a real daemon will not do on cue.</summary>
public sealed class GpuMuxClientTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_welcome_describes_the_session()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);

        Assert.Equal(42UL, client.SessionId);
        Assert.Equal(BackendKind.Sim, client.Backend);
        Assert.Equal(ScriptedDaemon.MaxPayloadBytes, client.MaxPayloadBytes);
        Assert.Equal("Scripted GPU", Assert.Single(client.Devices).Name);
    }

    [Fact]
    public async Task A_step_goes_out_as_built_and_decodes_with_the_daemon_s_decoder()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);
        var (region, buffer, function) = await CreateResourcesAsync(daemon, client);

        var step = new StepBuilder()
            .CopyIn(region, 64, buffer, 0, 128)
            .Launch(function, 3, 1, 1, 256, 2, 1, sharedMemoryBytes: 512)
            .Buffer(buffer, 16).Int32(-1).UInt32(2).Int64(-3).UInt64(4).Float32(0.5f).Float64(-0.25)
            .CopyOut(buffer, 0, region, 256, 128);
        var submitted = client.SubmitAsync(step, Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.StepCompleted, request.RequestId, new StepCompleted(ErrorCode.None, 10, 20, 70, ""), Cancellation);
        var result = await submitted;

        Assert.Equal(MessageType.SubmitStep, request.Type);
        Assert.Equal(step.FrameLength, request.Payload.Length + Protocol.Framing.FrameHeader.Size);
        AssertDecodesAsBuilt(request.Payload);
        Assert.Equal((10L, 20L, 70L), (result.QueuedAtNs, result.StartedAtNs, result.EndedAtNs));
        Assert.True(result.CompletedAtNs >= result.SubmittedAtNs);
    }

    [Fact]
    public async Task Replies_that_arrive_out_of_order_complete_their_own_requests()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);
        var step = new StepBuilder();

        var first = client.SubmitAsync(step, Cancellation).AsTask();
        var second = client.SubmitAsync(step, Cancellation).AsTask();
        var a = await daemon.ReadAsync(Cancellation);
        var b = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.StepCompleted, b.RequestId, new StepCompleted(ErrorCode.None, 2, 0, 0, ""), Cancellation);
        await daemon.ReplyAsync(MessageType.StepCompleted, a.RequestId, new StepCompleted(ErrorCode.None, 1, 0, 0, ""), Cancellation);

        Assert.Equal(1, (await first).QueuedAtNs);
        Assert.Equal(2, (await second).QueuedAtNs);
    }

    [Fact]
    public async Task A_failed_step_throws_the_exception_of_its_status()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);

        var submitted = client.SubmitAsync(new StepBuilder(), Cancellation).AsTask();
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.StepCompleted, request.RequestId, new StepCompleted(ErrorCode.KernelFault, 1, 2, 3, "illegal address"), Cancellation);

        var fault = await Assert.ThrowsAsync<KernelFaultException>(() => submitted);
        Assert.Equal("illegal address", fault.Message);
    }

    [Fact]
    public async Task An_error_frame_throws_the_exception_of_its_code()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);

        var allocation = client.AllocateBufferAsync(1UL << 40, Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.Error, request.RequestId, new ErrorMessage(ErrorCode.OutOfMemory, "the device is full"), Cancellation);

        var error = await Assert.ThrowsAsync<DeviceOutOfMemoryException>(() => allocation);
        Assert.True(error.IsRetryable);
    }

    [Fact]
    public async Task A_cancelled_wait_drops_its_late_reply_and_the_session_carries_on()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);

        var abandoned = client.SubmitAsync(new StepBuilder(), cancel.Token).AsTask();
        var late = await daemon.ReadAsync(Cancellation);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await daemon.ReplyAsync(MessageType.StepCompleted, late.RequestId, new StepCompleted(ErrorCode.None, 1, 0, 0, ""), Cancellation);

        var status = client.GetStatusAsync(Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.StatusReport, request.RequestId, EmptyStatus(), Cancellation);
        Assert.Equal(7L, (await status).UptimeMs);
    }

    [Fact]
    public async Task A_step_answered_with_another_reply_type_loses_the_connection_for_it_and_every_other_wait()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);

        var answered = client.SubmitAsync(new StepBuilder(), Cancellation).AsTask();
        var other = client.SubmitAsync(new StepBuilder(), Cancellation).AsTask();
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.Ok, request.RequestId, new EmptyMessage(), Cancellation);

        var lost = await Assert.ThrowsAsync<GpuMuxConnectionException>(() => answered);
        Assert.Contains("StepCompleted", lost.Message);
        await Assert.ThrowsAsync<GpuMuxConnectionException>(() => other);
    }

    [Fact]
    public async Task A_lost_connection_fails_every_wait_and_every_later_call()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);

        var waits = Enumerable.Range(0, 3).Select(_ => client.SubmitAsync(new StepBuilder(), Cancellation).AsTask()).ToArray();
        for (var i = 0; i < waits.Length; i++)
        {
            await daemon.ReadAsync(Cancellation);
        }

        daemon.Drop();

        foreach (var wait in waits)
        {
            await Assert.ThrowsAsync<GpuMuxConnectionException>(() => wait);
        }

        await Assert.ThrowsAsync<GpuMuxConnectionException>(() => client.GetStatusAsync(Cancellation));
    }

    [Fact]
    public async Task A_handle_from_another_session_is_refused_before_anything_is_sent()
    {
        await using var daemon = new ScriptedDaemon();
        await using var other = new ScriptedDaemon();
        await using var client = await ConnectAsync(daemon);
        await using var otherClient = await ConnectAsync(other);
        var allocation = otherClient.AllocateBufferAsync(64, Cancellation);
        await other.AnswerWithHandleAsync(MessageType.AllocateBuffer, MessageType.BufferAllocated, 1, Cancellation);
        var foreign = await allocation;
        var builtin = client.GetBuiltinAsync("fill_f32", Cancellation);
        await daemon.AnswerWithHandleAsync(MessageType.GetFunction, MessageType.FunctionFound, 1, Cancellation);

        var step = new StepBuilder().Launch(await builtin, 1, 32).Buffer(foreign);

        Assert.Throws<ArgumentException>(() => { _ = client.SubmitAsync(step, Cancellation); });
    }

    private static Task<GpuMuxClient> ConnectAsync(ScriptedDaemon daemon) => daemon.ConnectClientAsync(Cancellation);

    private static async Task<(SharedRegion, DeviceBuffer, KernelFunction)> CreateResourcesAsync(ScriptedDaemon daemon, GpuMuxClient client)
    {
        var region = client.CreateRegionAsync(4096, Cancellation);
        var registration = await daemon.AnswerWithHandleAsync(MessageType.RegisterRegion, MessageType.RegionRegistered, 5, Cancellation);
        Assert.Equal(1, registration.DescriptorCount);
        var buffer = client.AllocateBufferAsync(1024, Cancellation);
        await daemon.AnswerWithHandleAsync(MessageType.AllocateBuffer, MessageType.BufferAllocated, 7, Cancellation);
        var function = client.GetBuiltinAsync("axpy_f32", Cancellation);
        await daemon.AnswerWithHandleAsync(MessageType.GetFunction, MessageType.FunctionFound, 9, Cancellation);
        return (await region, await buffer, await function);
    }

    private static void AssertDecodesAsBuilt(byte[] payload)
    {
        var decoder = new StepDecoder(payload);
        Assert.Equal(3, decoder.OpCount);
        Assert.True(decoder.TryReadOp(out var copyIn));
        Assert.Equal((StepOpKind.CopyIn, 5u, 64UL, 7u, 0UL, 128UL), (copyIn.Kind, copyIn.Region, copyIn.RegionOffset, copyIn.Buffer, copyIn.BufferOffset, copyIn.Bytes));
        Assert.True(decoder.TryReadOp(out var launch));
        Assert.Equal((9u, 3u, 1u, 1u, 256u, 2u, 1u, 512u, (byte)7),
            (launch.Function, launch.GridX, launch.GridY, launch.GridZ, launch.BlockX, launch.BlockY, launch.BlockZ, launch.SharedMemoryBytes, launch.ArgumentCount));
        var buffer = decoder.ReadArgument();
        Assert.Equal((ArgumentKind.Buffer, 7u, 16UL), (buffer.Kind, buffer.Handle, buffer.Offset));
        Assert.Equal(-1, decoder.ReadArgument().AsInt32);
        Assert.Equal(2u, decoder.ReadArgument().AsUInt32);
        Assert.Equal(-3L, decoder.ReadArgument().AsInt64);
        Assert.Equal(4UL, decoder.ReadArgument().Bits);
        Assert.Equal(0.5f, decoder.ReadArgument().AsFloat32);
        Assert.Equal(-0.25, decoder.ReadArgument().AsFloat64);
        Assert.True(decoder.TryReadOp(out var copyOut));
        Assert.Equal((StepOpKind.CopyOut, 5u, 256UL, 7u, 0UL, 128UL), (copyOut.Kind, copyOut.Region, copyOut.RegionOffset, copyOut.Buffer, copyOut.BufferOffset, copyOut.Bytes));
        Assert.False(decoder.TryReadOp(out _));
    }

    private static StatusReport EmptyStatus() => new(
        BackendKind.Sim, "scripted", new DeviceDescription(0, "Scripted GPU", 1, 9, 0, 1, ""), 1, 1, 0, UptimeMs: 7, 0, []);
}
