namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>Within a tenant, held steps go earliest deadline first, each session's in order; a step that asked to fail when late does.</summary>
public sealed class DeadlineTests
{
    private const uint BlockerUid = 4001;
    private const uint TenantUid = 4002;

    [Fact]
    public async Task A_tenant_s_held_steps_start_in_deadline_order_across_its_sessions_those_without_one_last()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var blocker = await SpinSession.OpenAsync(engine, BlockerUid);
        var sessions = new SpinSession[5];
        for (var i = 0; i < sessions.Length; i++)
        {
            sessions[i] = await SpinSession.OpenAsync(engine, TenantUid);
        }

        // The class's two places on the device are taken, so the tenant's steps are all held when their turn comes.
        blocker.SubmitMany(2, 50_000);
        sessions[0].Submit(0, 1000);
        for (var i = 1; i < sessions.Length; i++)
        {
            var deadline = Deadline.FromNow(TimeSpan.FromSeconds(sessions.Length - i));
            sessions[i].Submit((uint)i, 1000, step => step.SetDeadline(deadline, failIfLate: true));
        }
        var results = new List<StepCompletion>();
        foreach (var session in sessions)
        {
            results.Add(await session.Completions.NextAsync());
        }
        await blocker.Completions.NextAsync(2);

        Assert.All(results, c => Assert.Equal(EngineError.None, c.Status));
        Assert.Equal([4u, 3u, 2u, 1u, 0u], results.OrderBy(c => c.EndedAtNs).Select(c => c.RequestId));
        Assert.Equal([4u, 3u, 2u, 1u, 0u], results.OrderBy(c => c.StartedAtNs).Select(c => c.RequestId));
    }

    [Fact]
    public async Task A_session_s_steps_keep_their_order_the_first_going_by_the_earlier_deadline_of_one_behind_it()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var blocker = await SpinSession.OpenAsync(engine, BlockerUid);
        await using var ordered = await SpinSession.OpenAsync(engine, TenantUid);
        await using var sooner = await SpinSession.OpenAsync(engine, TenantUid);
        await using var later = await SpinSession.OpenAsync(engine, TenantUid);

        blocker.SubmitMany(2, 50_000);
        ordered.Submit(1, 1000, step => step.SetDeadline(Deadline.FromNow(TimeSpan.FromSeconds(4)), failIfLate: false));
        ordered.Submit(2, 1000, step => step.SetDeadline(Deadline.FromNow(TimeSpan.FromSeconds(2)), failIfLate: false));
        later.Submit(3, 1000, step => step.SetDeadline(Deadline.FromNow(TimeSpan.FromSeconds(3)), failIfLate: false));
        sooner.Submit(4, 1000, step => step.SetDeadline(Deadline.FromNow(TimeSpan.FromSeconds(1)), failIfLate: false));
        var results = (await ordered.Completions.NextAsync(2)).Append(await later.Completions.NextAsync()).Append(await sooner.Completions.NextAsync());
        await blocker.Completions.NextAsync(2);

        // Step 1 cannot start before step 2, due in 2 s, so it goes as if due then: after step 4, before step 3.
        Assert.Equal([4u, 1u, 2u, 3u], results.OrderBy(c => c.EndedAtNs).Select(c => c.RequestId));
    }

    [Fact]
    public async Task A_held_step_whose_deadline_passes_fails_without_running_if_it_asked_to_and_runs_late_if_not()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var blocker = await SpinSession.OpenAsync(engine, BlockerUid);
        await using var tenant = await SpinSession.OpenAsync(engine, TenantUid);

        // Margins a busy test run cannot eat: the engine takes the steps well before their deadline,
        // which passes well before the blocker's steps end.
        blocker.SubmitMany(2, 400_000);
        var deadline = Deadline.FromNow(TimeSpan.FromMilliseconds(200));
        tenant.Submit(1, 1000, step => step.SetDeadline(deadline, failIfLate: true));
        tenant.Submit(2, 1000, step => step.SetDeadline(deadline, failIfLate: false));
        tenant.Submit(3, 1000, step => step.SetDeadline(Deadline.FromNow(-TimeSpan.FromMilliseconds(1)), failIfLate: true));
        var results = (await tenant.Completions.NextAsync(3)).ToDictionary(c => c.RequestId);
        await blocker.Completions.NextAsync(2);

        Assert.Equal((EngineError.DeadlineMissed, 0L, 0L), (results[1].Status, results[1].StartedAtNs, results[1].EndedAtNs));
        Assert.Contains("before it could start", results[1].Message);
        Assert.Equal(EngineError.None, results[2].Status);
        Assert.True(results[2].StartedAtNs > deadline);
        Assert.Equal((EngineError.DeadlineMissed, 0L), (results[3].Status, results[3].StartedAtNs));
        Assert.Contains("before it was submitted", results[3].Message);
    }

    [Fact]
    public async Task A_step_behind_its_session_s_running_step_fails_if_its_deadline_passes_before_that_step_ends()
    {
        await using var engine = await TestEngine.StartAsync();
        await using var tenant = await SpinSession.OpenAsync(engine, TenantUid);

        // The class has room on the device, so the scheduler holds nothing for want of it; the
        // second step can start only once the first ends, well after its deadline.
        tenant.Submit(1, 400_000);
        tenant.Submit(2, 1000, step => step.SetDeadline(Deadline.FromNow(TimeSpan.FromMilliseconds(100)), failIfLate: true));
        var results = (await tenant.Completions.NextAsync(2)).ToDictionary(c => c.RequestId);

        Assert.Equal(EngineError.None, results[1].Status);
        Assert.Equal((EngineError.DeadlineMissed, 0L, 0L), (results[2].Status, results[2].StartedAtNs, results[2].EndedAtNs));
    }
}
