using GpuMux.Engine.Tenants;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>Strict priority between classes, the starvation bound, and what a step of one class is charged while another has the device.</summary>
public sealed class ClassPriorityTests
{
    private const uint StandardUid = 2001;
    private const uint BatchUid = 2002;
    private const ulong StepMicroseconds = 2000;

    [Fact]
    public async Task Without_a_minimum_share_batch_steps_wait_until_the_standard_class_holds_none()
    {
        await using var engine = await SchedulingEngine.StartAsync(batchMinimumShare: 0);
        await using var standard = await SpinSession.OpenAsync(engine, StandardUid);
        await using var batch = await SpinSession.OpenAsync(engine, BatchUid, "batch");

        standard.SubmitMany(40, StepMicroseconds);
        batch.SubmitMany(20, StepMicroseconds);
        var standardFirst = await standard.Completions.NextAsync(20);
        var midway = SchedulingEngine.ClassOf(await engine.GetStatusAsync(Ct), "batch");
        var batchMidway = await engine.TenantAsync(BatchUid);
        var standardResults = standardFirst.Concat(await standard.Completions.NextAsync(20)).ToArray();
        var batchResults = await batch.Completions.NextAsync(20);

        Assert.Equal((20, 0), (midway.StepsQueued, midway.StepsOnDevice));
        Assert.Equal((0, 0.0), (batchMidway.Usage.Steps, batchMidway.Usage.GpuSeconds));
        Assert.All(standardResults.Concat(batchResults), c => Assert.Equal(EngineError.None, c.Status));
        var standardDone = standardResults.Max(c => c.EndedAtNs);
        Assert.All(batchResults, c => Assert.True(c.EndedAtNs > standardDone));
    }

    [Fact]
    public async Task A_batch_class_owed_its_minimum_share_gets_about_that_share_of_the_device_while_the_standard_class_saturates_it()
    {
        await using var engine = await SchedulingEngine.StartAsync(batchMinimumShare: 0.2);
        await using var standard = await SpinSession.OpenAsync(engine, StandardUid);
        await using var batch = await SpinSession.OpenAsync(engine, BatchUid, "batch");

        standard.SubmitMany(60, StepMicroseconds);
        batch.SubmitMany(30, StepMicroseconds);
        var standardResults = await standard.Completions.NextAsync(60);
        var batchResults = await batch.Completions.NextAsync(30);

        Assert.All(standardResults.Concat(batchResults), c => Assert.Equal(EngineError.None, c.Status));
        // Counted in steps of one length rather than in what the tenants were charged: a batch
        // step is charged the time it waited behind standard ones too (see
        // A_step_is_charged_its_own_device_time_and_not_the_time_it_waited_behind_another_class_s_steps),
        // which would make the batch class look served.
        var standardDone = standardResults.Max(c => c.EndedAtNs);
        var batchMeanwhile = batchResults.Count(c => c.EndedAtNs < standardDone);
        var share = (double)batchMeanwhile / (batchMeanwhile + standardResults.Length);
        Assert.True(share >= 0.1, $"the batch class ran {batchMeanwhile} steps to the standard class's {standardResults.Length} ({share:P0} of the device), below its minimum share of 20%");
    }

    [Fact]
    public async Task A_step_is_charged_its_own_device_time_and_not_the_time_it_waited_behind_another_class_s_steps()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var standard = await SpinSession.OpenAsync(engine, StandardUid);
        await using var batch = await SpinSession.OpenAsync(engine, BatchUid);
        await batch.Session.AcquireLeaseAsync(new LeaseRequest("batch", TimeSpan.FromMilliseconds(150), null, 0), Ct);

        // Both standard steps go to the device at once, so the class holds none and the batch step is issued too.
        standard.SubmitMany(2, 100_000);
        batch.Submit(1, StepMicroseconds);
        var batchResult = await batch.Completions.NextAsync();
        await standard.Completions.NextAsync(2);
        var charged = (await engine.TenantAsync(BatchUid)).Usage.GpuSeconds;
        var lease = await batch.Session.GetLeaseAsync(Ct);
        batch.Submit(2, StepMicroseconds);
        var after = await batch.Completions.NextAsync();

        Assert.Equal(EngineError.None, batchResult.Status);

        // Charged the wait, it would pay about the standard steps' 200 ms; the bounds leave a loaded
        // host room to stretch its own 2 ms many times over.
        Assert.True(charged < 0.1, $"a step of {StepMicroseconds} µs was charged {charged * 1e3:F1} ms");
        Assert.False(lease!.Expired, $"one step of {StepMicroseconds} µs spent a lease of 150 ms (used {lease.GpuTimeUsed.TotalMilliseconds:F1} ms)");
        Assert.Equal(EngineError.None, after.Status);
    }
}
