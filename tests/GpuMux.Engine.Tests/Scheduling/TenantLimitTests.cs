using GpuMux.Engine.Tenants;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>Per-tenant limits refuse with QuotaExceeded, apply over all of a uid's sessions, change while running, and are reported.</summary>
public sealed class TenantLimitTests
{
    private const uint LimitedUid = 6001;
    private const uint OtherUid = 6002;

    [Fact]
    public async Task A_uid_holds_no_more_leases_than_its_limit_over_all_its_sessions()
    {
        await using var engine = await SchedulingEngine.StartAsync(new Dictionary<uint, TenantLimits> { [LimitedUid] = new() { MaxLeases = 1 } });
        await using var first = await SpinSession.OpenAsync(engine, LimitedUid, "batch");
        await using var second = await SpinSession.OpenAsync(engine, LimitedUid);
        await using var other = await SpinSession.OpenAsync(engine, OtherUid, "batch");

        var refused = await Assert.ThrowsAsync<EngineException>(() => second.Session.AcquireLeaseAsync(new LeaseRequest(null, null, null, 0), Ct));
        var report = await engine.TenantAsync(LimitedUid);
        await first.Session.ReleaseLeaseAsync(Ct);
        var granted = await second.Session.AcquireLeaseAsync(new LeaseRequest("batch", null, null, 0), Ct);

        Assert.Equal(EngineError.QuotaExceeded, refused.Error);
        Assert.Contains($"uid {LimitedUid}", refused.Message);
        Assert.Equal((2, 1, 1), (report.Sessions, report.Leases, report.Limits.MaxLeases));
        Assert.Equal(("batch", false), (granted.Class, granted.Expired));
    }

    [Fact]
    public async Task A_lease_of_a_class_above_the_tenant_s_highest_is_refused_and_the_session_keeps_its_class()
    {
        await using var engine = await SchedulingEngine.StartAsync(new Dictionary<uint, TenantLimits> { [LimitedUid] = new() { HighestClass = "standard" } });
        await using var limited = await SpinSession.OpenAsync(engine, LimitedUid);
        await using var other = await SpinSession.OpenAsync(engine, OtherUid, "interactive");

        var refused = await Assert.ThrowsAsync<EngineException>(() => limited.Session.AcquireLeaseAsync(new LeaseRequest("interactive", null, null, 0), Ct));
        var classAfterRefusal = ClassOf(await engine.GetStatusAsync(Ct), limited);
        await limited.Session.AcquireLeaseAsync(new LeaseRequest("standard", null, null, 0), Ct);
        await limited.Session.ReleaseLeaseAsync(Ct);
        await limited.Session.AcquireLeaseAsync(new LeaseRequest("batch", null, null, 0), Ct);

        Assert.Equal(EngineError.QuotaExceeded, refused.Error);
        Assert.Contains("up to standard", refused.Message);
        Assert.Equal("standard", classAfterRefusal);
        var status = await engine.GetStatusAsync(Ct);
        Assert.Equal(("batch", "interactive"), (ClassOf(status, limited), ClassOf(status, other)));
    }

    [Fact]
    public async Task Raising_a_tenant_s_device_memory_limit_while_running_lets_a_refused_buffer_be_allocated()
    {
        await using var engine = await Models.ModelEngine.StartAsync(options => options with
        {
            Tenants = new TenantLimitsOptions { ByUid = new Dictionary<uint, TenantLimits> { [LimitedUid] = new() { MaxDeviceBytes = 1 << 20 } } },
        });
        var session = engine.OpenSession(TestEngine.Identity with { Uid = LimitedUid }, new CompletionRecorder());

        await session.AllocateBufferAsync(768 << 10, Ct);
        var refused = await Assert.ThrowsAsync<EngineException>(() => session.AllocateBufferAsync(512 << 10, Ct));
        await engine.UpdateTenantLimitsAsync(Limits(new TenantLimits { MaxDeviceBytes = 2 << 20 }), Ct);
        await session.AllocateBufferAsync(512 << 10, Ct);
        var report = await engine.TenantAsync(LimitedUid);

        Assert.Equal(EngineError.QuotaExceeded, refused.Error);
        Assert.Equal((1280UL << 10, 2UL << 20), (report.DeviceBytes, report.Limits.MaxDeviceBytes));
    }

    [Fact]
    public async Task A_buffer_whose_size_rounds_past_the_largest_number_is_over_the_tenant_s_limit_not_nothing()
    {
        await using var engine = await Models.ModelEngine.StartAsync(options => options with
        {
            Tenants = new TenantLimitsOptions { ByUid = new Dictionary<uint, TenantLimits> { [LimitedUid] = new() { MaxDeviceBytes = 1 << 20 } } },
        });
        var session = engine.OpenSession(TestEngine.Identity with { Uid = LimitedUid }, new CompletionRecorder());

        var refused = await Assert.ThrowsAsync<EngineException>(() => session.AllocateBufferAsync(ulong.MaxValue, Ct));

        Assert.Equal(EngineError.QuotaExceeded, refused.Error);
        Assert.Equal(0UL, (await engine.TenantAsync(LimitedUid)).DeviceBytes);
    }

    [Fact]
    public async Task Once_a_tenant_has_used_its_GPU_seconds_for_the_day_its_steps_fail_until_the_limit_is_raised()
    {
        const double Limit = 0.02;
        await using var engine = await SchedulingEngine.StartAsync(new Dictionary<uint, TenantLimits> { [LimitedUid] = new() { GpuSecondsPerDay = Limit } });
        await using var limited = await SpinSession.OpenAsync(engine, LimitedUid);
        await using var other = await SpinSession.OpenAsync(engine, OtherUid);

        // Each step's charge depends on the machine, so each is checked against what was used before it.
        var outcomes = new List<(double UsedBefore, StepCompletion Completion)>();
        do
        {
            var used = (await engine.TenantAsync(LimitedUid)).GpuSecondsToday;
            outcomes.Add((used, await RunAsync(limited, 5000)));
        }
        while (outcomes[^1].Completion.Status == EngineError.None && outcomes.Count < 20);
        var report = await engine.TenantAsync(LimitedUid);
        var otherResult = await RunAsync(other, 5000);
        await engine.UpdateTenantLimitsAsync(Limits(new TenantLimits { GpuSecondsPerDay = 10 }), Ct);
        var afterRaise = await RunAsync(limited, 5000);

        Assert.All(outcomes, o => Assert.Equal(o.UsedBefore < Limit ? EngineError.None : EngineError.QuotaExceeded, o.Completion.Status));
        var refused = outcomes[^1].Completion;
        Assert.Equal(EngineError.QuotaExceeded, refused.Status);
        Assert.Contains("GPU seconds", refused.Message);
        Assert.True(report.GpuSecondsToday >= Limit);
        Assert.NotNull(report.ResetsAt);
        Assert.Equal(Limit, report.Limits.GpuSecondsPerDay);
        Assert.Equal(outcomes.Count - 1, report.Usage.Steps);
        Assert.Equal(report.GpuSecondsToday, report.Usage.GpuSeconds, tolerance: 1e-9);
        Assert.NotNull(report.Usage.QueueDelayP99Milliseconds);
        Assert.Equal(EngineError.None, otherResult.Status);
        Assert.Equal(EngineError.None, afterRaise.Status);
    }

    private static TenantLimitsOptions Limits(TenantLimits limits) =>
        new() { ByUid = new Dictionary<uint, TenantLimits> { [LimitedUid] = limits } };

    private static async Task<StepCompletion> RunAsync(SpinSession session, ulong microseconds)
    {
        session.Submit(0, microseconds);
        return await session.Completions.NextAsync();
    }

    private static string ClassOf(EngineStatus status, SpinSession session) => status.Sessions.Single(s => s.Id == session.Session.Id).Class;
}
