using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.Client;

/// <summary>The 1.2 requests and the Schedule op, as the client puts them on the wire and reads the replies.</summary>
public sealed class ClientLeaseTests
{
    private static readonly LeaseInfo Granted = new(3, "batch", 0, 2_000_000, 1_700_000_000_000, 0, 0, 0, false);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lease_request_states_its_budgets_in_whole_milliseconds_rounded_up()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);

        var acquiring = client.AcquireLeaseAsync("batch", TimeSpan.FromMicroseconds(1500), TimeSpan.FromMinutes(2), 1 << 20, Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.LeaseGranted, request.RequestId, Granted, Cancellation);

        Assert.Equal(MessageType.AcquireLease, request.Type);
        Assert.Equal(new AcquireLease("batch", 2, 120_000, 1 << 20), Message.Decode<AcquireLease>(request.Payload));
        Assert.Equal(Granted, await acquiring);
    }

    [Fact]
    public async Task A_lease_without_limits_asks_for_the_default_class_with_zeros()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);

        var acquiring = client.AcquireLeaseAsync(cancellationToken: Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.LeaseGranted, request.RequestId, Granted, Cancellation);
        await acquiring;

        Assert.Equal(new AcquireLease("", 0, 0, 0), Message.Decode<AcquireLease>(request.Payload));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.AcquireLeaseAsync(maxGpuTime: TimeSpan.Zero, cancellationToken: Cancellation));
    }

    [Fact]
    public async Task Get_lease_reads_has_lease_and_release_expects_ok()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);

        var none = client.GetLeaseAsync(Cancellation);
        var first = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.LeaseReport, first.RequestId, new LeaseReport(null), Cancellation);
        Assert.Null(await none);

        var held = client.GetLeaseAsync(Cancellation);
        var second = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.LeaseReport, second.RequestId, new LeaseReport(Granted with { Expired = true }), Cancellation);
        Assert.True((await held)?.Expired);

        var releasing = client.ReleaseLeaseAsync(Cancellation);
        var release = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.Ok, release.RequestId, new EmptyMessage(), Cancellation);
        await releasing;
        Assert.Equal((MessageType.GetLease, MessageType.ReleaseLease), (first.Type, release.Type));
        Assert.Empty(release.Payload);
    }

    [Fact]
    public async Task A_lease_refused_for_its_class_throws_the_exception_of_the_code()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);

        var acquiring = client.AcquireLeaseAsync("interactive", cancellationToken: Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.Error, request.RequestId, new ErrorMessage(ErrorCode.QuotaExceeded, "uid 1000 may lease classes up to standard"), Cancellation);

        await Assert.ThrowsAsync<QuotaExceededException>(() => acquiring);
    }

    [Fact]
    public async Task A_deadline_and_the_end_of_a_request_go_first_as_one_schedule_op()
    {
        await using var daemon = new ScriptedDaemon();
        await using var client = await daemon.ConnectClientAsync(Cancellation);
        var allocation = client.AllocateBufferAsync(64, Cancellation);
        await daemon.AnswerWithHandleAsync(MessageType.AllocateBuffer, MessageType.BufferAllocated, 7, Cancellation);
        var function = client.GetBuiltinAsync("fill_f32", Cancellation);
        await daemon.AnswerWithHandleAsync(MessageType.GetFunction, MessageType.FunctionFound, 9, Cancellation);
        var buffer = await allocation;

        var step = new StepBuilder().Launch(await function, 1, 32).Buffer(buffer).Float32(1).UInt64(16).EndRequest().Deadline(5_000, failIfLate: true);
        var submitted = client.SubmitAsync(step, Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(MessageType.StepCompleted, request.RequestId, new StepCompleted(ErrorCode.None, 1, 2, 3, ""), Cancellation);
        await submitted;

        Assert.Equal(step.FrameLength, request.Payload.Length + FrameHeader.Size);
        var decoder = new StepDecoder(request.Payload);
        Assert.Equal(2, decoder.OpCount);
        Assert.True(decoder.TryReadOp(out var schedule));
        Assert.Equal((StepOpKind.Schedule, 5_000L, ScheduleFlags.FailIfLate | ScheduleFlags.EndsRequest), (schedule.Kind, schedule.DeadlineNs, schedule.Flags));
        Assert.True(decoder.TryReadOp(out var launch));
        Assert.Equal(StepOpKind.Launch, launch.Kind);
        Assert.Equal(1, step.OpCount);
        Assert.Equal(FrameHeader.Size + 4, step.Clear().FrameLength);
    }

    [Fact]
    public async Task A_1_1_daemon_is_not_asked_about_leases_tenants_or_deadlines()
    {
        await using var daemon = new ScriptedDaemon(minor: 1);
        await using var client = await daemon.ConnectClientAsync(Cancellation);

        await Assert.ThrowsAsync<NotSupportedException>(() => client.AcquireLeaseAsync(cancellationToken: Cancellation));
        await Assert.ThrowsAsync<NotSupportedException>(() => client.ReleaseLeaseAsync(Cancellation));
        await Assert.ThrowsAsync<NotSupportedException>(() => client.GetLeaseAsync(Cancellation));
        await Assert.ThrowsAsync<NotSupportedException>(() => client.GetTenantsAsync(Cancellation));
        Assert.Throws<NotSupportedException>(() => { _ = client.SubmitAsync(new StepBuilder().EndRequest(), Cancellation); });
    }

    [Fact]
    public async Task The_status_of_a_1_1_daemon_has_no_scheduling_part()
    {
        await using var daemon = new ScriptedDaemon(minor: 1);
        await using var client = await daemon.ConnectClientAsync(Cancellation);

        var status = client.GetStatusAsync(Cancellation);
        var request = await daemon.ReadAsync(Cancellation);
        await daemon.ReplyAsync(
            MessageType.StatusReport, request.RequestId, new StatusReport(BackendKind.Sim, "old", new DeviceDescription(0, "GPU", 1, 9, 0, 1, ""), 1, 1, 0, 7, 0, []), Cancellation);

        Assert.Null((await status).Scheduling);
    }
}
