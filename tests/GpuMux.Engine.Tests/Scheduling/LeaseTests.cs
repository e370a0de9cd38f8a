using GpuMux.Engine.Tenants;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>A lease's GPU time and duration run out with steps queued; its buffers go with it, and other tenants do not notice.</summary>
public sealed class LeaseTests
{
    private const uint LeasedUid = 5001;
    private const uint OtherUid = 5002;
    private const int Steps = 30;
    private const ulong StepMicroseconds = 2000;
    private static readonly TimeSpan GpuTime = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task A_lease_that_runs_out_of_GPU_time_mid_queue_fails_the_rest_of_its_steps_while_another_tenant_carries_on()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var leased = await SpinSession.OpenAsync(engine, LeasedUid);
        await using var other = await SpinSession.OpenAsync(engine, OtherUid);

        await TakeLeaseAsync(leased);
        other.SubmitMany(Steps, StepMicroseconds);
        var results = await RunOutAsync(leased);
        var otherResults = await other.Completions.NextAsync(Steps);
        var lease = await leased.Session.GetLeaseAsync(Ct);

        // The steps that spent the lease ran to their end; the held ones after them never started.
        var ran = results.Count(c => c.Status == EngineError.None);
        Assert.InRange(ran, 1, Steps - 1);
        Assert.Equal(
            Enumerable.Repeat(EngineError.None, ran).Concat(Enumerable.Repeat(EngineError.LeaseExpired, Steps - ran)),
            results.OrderBy(c => c.RequestId).Select(c => c.Status));
        Assert.All(results.Where(c => c.Status == EngineError.LeaseExpired), c => Assert.Equal(0, c.StartedAtNs));
        Assert.True(lease!.Expired);
        Assert.True(lease.GpuTimeUsed >= GpuTime);
        Assert.All(otherResults, c => Assert.Equal(EngineError.None, c.Status));
        leased.Submit(Steps, StepMicroseconds);
        Assert.Equal(EngineError.LeaseExpired, (await leased.Completions.NextAsync()).Status);
    }

    [Fact]
    public async Task Buffers_allocated_under_a_spent_lease_are_freed_and_the_session_runs_again_once_it_takes_a_new_lease()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var leased = await SpinSession.OpenAsync(engine, LeasedUid);
        var session = leased.Session;
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);
        var before = await session.AllocateBufferAsync(4096, Ct);

        await TakeLeaseAsync(leased);
        var underLease = await session.AllocateBufferAsync(1 << 20, Ct);
        var held = await BufferBytesAsync(engine, session);
        await RunOutAsync(leased);

        Assert.Equal((1UL << 20) + 4096, held);
        Assert.Equal(4096UL, await BufferBytesAsync(engine, session));
        Assert.Equal(EngineError.LeaseExpired, (await Assert.ThrowsAsync<EngineException>(() => session.AllocateBufferAsync(4096, Ct))).Error);
        await session.ReleaseLeaseAsync(Ct);
        Assert.Null(await session.GetLeaseAsync(Ct));
        await session.AcquireLeaseAsync(new LeaseRequest(null, null, null, 0), Ct);
        Assert.Equal(EngineError.None, (await session.RunAsync(leased.Completions, step => Fill(step, fill, before))).Status);
        Assert.Equal(EngineError.UnknownHandle, (await session.RunAsync(leased.Completions, step => Fill(step, fill, underLease))).Status);
        Assert.Equal(EngineError.UnknownHandle, (await Assert.ThrowsAsync<EngineException>(() => session.FreeBufferAsync(underLease, Ct))).Error);
    }

    [Fact]
    public async Task A_lease_with_a_short_duration_expires_by_the_clock_failing_its_held_steps_and_later_ones()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var leased = await SpinSession.OpenAsync(engine, LeasedUid);
        await leased.Session.AcquireLeaseAsync(new LeaseRequest(null, null, TimeSpan.FromMilliseconds(150), 0), Ct);

        // The first two go to the device at once and finish after the lease's end; the rest are held.
        leased.SubmitMany(2, 400_000);
        leased.SubmitMany(3, 1000, firstRequestId: 2);
        var results = await leased.Completions.NextAsync(5);
        leased.Submit(5, 1000);
        var later = await leased.Completions.NextAsync();
        var lease = await leased.Session.GetLeaseAsync(Ct);
        var held = await engine.TenantAsync(LeasedUid);
        await leased.Session.ReleaseLeaseAsync(Ct);
        var released = await engine.TenantAsync(LeasedUid);

        Assert.Equal(
            [EngineError.None, EngineError.None, EngineError.LeaseExpired, EngineError.LeaseExpired, EngineError.LeaseExpired],
            results.OrderBy(c => c.RequestId).Select(c => c.Status));
        Assert.Equal(EngineError.LeaseExpired, later.Status);
        Assert.True(lease!.Expired);
        Assert.Equal((1, 0), (held.Leases, released.Leases));
    }

    [Fact]
    public async Task A_lease_holds_the_buffers_allocated_under_it_to_its_device_memory()
    {
        await using var engine = await Models.ModelEngine.StartAsync();
        var (session, _) = engine.Open();
        await session.AllocateBufferAsync(1 << 20, Ct);
        await session.AcquireLeaseAsync(new LeaseRequest(null, null, null, 1 << 20), Ct);

        var first = await session.AllocateBufferAsync(768 << 10, Ct);
        var refused = await Assert.ThrowsAsync<EngineException>(() => session.AllocateBufferAsync(512 << 10, Ct));
        await session.FreeBufferAsync(first, Ct);
        await session.AllocateBufferAsync(1 << 20, Ct);

        Assert.Equal(EngineError.QuotaExceeded, refused.Error);
        Assert.Contains("lease", refused.Message);
        Assert.Equal(1UL << 20, (await session.GetLeaseAsync(Ct))!.DeviceBytes);
    }

    [Fact]
    public async Task A_lease_longer_than_a_timer_can_wait_is_refused_and_counts_against_nothing()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var leased = await SpinSession.OpenAsync(engine, LeasedUid);
        var session = leased.Session;
        var tooLong = LeaseRequest.MaxBudget + TimeSpan.FromMilliseconds(1);

        var overDuration = await Assert.ThrowsAsync<EngineException>(() => session.AcquireLeaseAsync(new LeaseRequest(null, null, tooLong, 0), Ct));
        var overGpuTime = await Assert.ThrowsAsync<EngineException>(() => session.AcquireLeaseAsync(new LeaseRequest(null, tooLong, null, 0), Ct));

        Assert.Equal((EngineError.InvalidArgument, EngineError.InvalidArgument), (overDuration.Error, overGpuTime.Error));
        Assert.Null(await session.GetLeaseAsync(Ct));
        Assert.Equal(0, (await engine.GetTenantsAsync(Ct)).Single(t => t.Uid == LeasedUid).Leases);
        var longest = await session.AcquireLeaseAsync(new LeaseRequest(null, LeaseRequest.MaxBudget, LeaseRequest.MaxBudget, 0), Ct);
        Assert.Equal(LeaseRequest.MaxBudget, longest.MaxGpuTime);
    }

    private static Task TakeLeaseAsync(SpinSession session) =>
        session.Session.AcquireLeaseAsync(new LeaseRequest(null, GpuTime, null, 0), Ct);

    /// <summary>Queues more steps than the lease of <see cref="GpuTime"/> pays for, and returns their completions.</summary>
    private static async Task<StepCompletion[]> RunOutAsync(SpinSession session)
    {
        session.SubmitMany(Steps, StepMicroseconds);
        return await session.Completions.NextAsync(Steps);
    }

    private static async Task<ulong> BufferBytesAsync(GpuEngine engine, EngineSession session) =>
        (await engine.GetStatusAsync(Ct)).Sessions.Single(s => s.Id == session.Id).BufferBytes;

    private static void Fill(Step step, uint fill, uint buffer)
    {
        step.AddLaunch(fill, 1, 32, 0);
        step.AddBufferArgument(buffer, 0);
        step.AddScalarArgument(1f);
        step.AddScalarArgument(16UL);
    }
}
