using GpuMux.Engine.Device;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Tests.Models;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>
/// How steps of models that do not all fit share the device: what a cold step waits for, which
/// model it evicts, and what it holds meanwhile. The pool is 64 pages; each session's buffers
/// take three; a sized model takes 16, a big one 43.
/// </summary>
public sealed class ModelSwitchingTests
{
    private const uint ServiceUid = 7301;
    private const uint OtherUid = 7302;

    [Fact]
    public async Task A_tenant_s_step_on_a_cold_model_that_must_wait_does_not_hold_up_the_tenant_s_other_sessions()
    {
        await using var engine = await ModelEngine.StartAsync(options => options with { Scheduling = new SchedulingOptions { Policy = SchedulingPolicy.Request } });
        await using var holder = await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = ServiceUid });
        await using var cold = await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = ServiceUid });
        await using var warm = await SpinSession.OpenAsync(engine, ServiceUid);
        await holder.RegisterAsync(ModelEngine.Sized("a", 1));
        await cold.RegisterAsync(ModelEngine.Big("big", 9));

        await holder.SubmitAsync("a");
        await holder.Completions.NextAsync();
        var bigSlot = await cold.SubmitAsync("big");
        warm.Submit(1, 500);
        var warmResult = await warm.Completions.NextAsync();
        var meanwhile = await engine.GetModelsAsync(Ct);
        await holder.SubmitAsync("a", schedule: step => step.EndRequest());
        await holder.Completions.NextAsync();
        var bigResult = await cold.Completions.NextAsync();

        Assert.Equal(EngineError.None, warmResult.Status);
        Assert.Equal((true, false), (ModelEngine.StatusOf(meanwhile, "a").Resident, ModelEngine.StatusOf(meanwhile, "big").Resident));
        Assert.True(bigResult.Status == EngineError.None, bigResult.Message);
        Assert.True(bigResult.StartedAtNs > warmResult.EndedAtNs);
        cold.AssertResults("big", bigSlot);
    }

    [Fact]
    public async Task A_step_waiting_for_its_model_s_swap_in_leaves_its_class_s_place_on_the_device_to_a_ready_step()
    {
        // One step of the class on the device at a time; a 4 MiB swap-in at 40 MB/s takes a tenth of a second.
        await using var engine = await ModelEngine.StartAsync(
            options => options with { Scheduling = new SchedulingOptions { StepsOnDevicePerClass = 1 } },
            pinnedCopyBytesPerSecond: 40e6);
        await using var cold = await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = ServiceUid });
        await using var ready = await SpinSession.OpenAsync(engine, OtherUid);
        await cold.RegisterAsync(ModelEngine.Sized("a", 1));

        var slot = await cold.SubmitAsync("a");
        ready.Submit(1, 500);
        var readyResult = await ready.Completions.NextAsync();
        var coldResult = await cold.Completions.NextAsync();

        Assert.Equal(EngineError.None, readyResult.Status);
        Assert.True(coldResult.Status == EngineError.None, coldResult.Message);
        Assert.True(readyResult.EndedAtNs < coldResult.EndedAtNs, "the ready step waited for the swap-in of another's model");
        cold.AssertResults("a", slot);
    }

    [Fact]
    public async Task Of_the_models_steps_want_the_one_evicted_is_the_one_furthest_ahead_of_its_deadlines()
    {
        // No turns: every model mid-request is a victim, chosen by how far ahead its client runs.
        await using var engine = await ModelEngine.StartAsync(options => options with { Scheduling = new SchedulingOptions { SwapAmortization = 0 } });
        await using var service = await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = ServiceUid });
        foreach (var (name, seed) in new[] { ("a", 1), ("b", 2), ("c", 3), ("d", 4) })
        {
            await service.RegisterAsync(ModelEngine.Sized(name, seed));
        }

        // Three fit beside the buffers. The one furthest ahead runs last, so it is also the one used most recently.
        foreach (var (name, ahead) in new[] { ("b", 1), ("c", 5), ("a", 10) })
        {
            var deadline = Deadline.FromNow(TimeSpan.FromSeconds(ahead));
            await service.SubmitAsync(name, schedule: step => step.SetDeadline(deadline, failIfLate: false));
            Assert.Equal(EngineError.None, (await service.Completions.NextAsync()).Status);
        }
        var now = MonotonicClock.NowNanoseconds();
        var slot = await service.SubmitAsync("d", schedule: step => step.SetDeadline(now, failIfLate: false));
        var result = await service.Completions.NextAsync();
        var models = await engine.GetModelsAsync(Ct);

        Assert.True(result.Status == EngineError.None, result.Message);
        service.AssertResults("d", slot);
        Assert.Equal([("a", false), ("b", true), ("c", true), ("d", true)], models.OrderBy(m => m.Name).Select(m => (m.Name, m.Resident)));
    }

    [Fact]
    public async Task A_step_that_waited_for_a_busy_model_to_finish_waits_on_if_that_model_is_then_within_its_turn()
    {
        await using var pair = await HolderAndBig.StartAsync(new SchedulingOptions { SwapAmortization = 1000 });
        var (engine, holder, other) = (pair.Engine, pair.Holder, pair.Other);

        // "a" is busy and no step wants it after this one, so "big" is issued to wait for it. A
        // step for "a" that comes meanwhile makes it wanted within its turn once it is idle.
        await holder.SubmitAsync("a", spinMicroseconds: 100_000, schedule: step => step.EndRequest());
        var bigSlot = await other.SubmitAsync("big");
        await holder.SubmitAsync("a", schedule: step => step.EndRequest());
        var held = await holder.Completions.NextAsync(2);
        var bigResult = await other.Completions.NextAsync();

        Assert.All(held, c => Assert.Equal(EngineError.None, c.Status));
        Assert.True(bigResult.Status == EngineError.None, $"{bigResult.Status}: {bigResult.Message}");
        other.AssertResults("big", bigSlot);
    }

    [Fact]
    public async Task A_turn_ends_early_when_the_model_goes_unused_though_its_request_is_not_over()
    {
        // A turn of a thousand swap-ins' device time, which the holder's one step comes nowhere near.
        await using var pair = await HolderAndBig.StartAsync(new SchedulingOptions { SwapAmortization = 1000 });
        var (engine, holder, other) = (pair.Engine, pair.Holder, pair.Other);

        await holder.SubmitAsync("a");
        var held = await holder.Completions.NextAsync();
        var bigSlot = await other.SubmitAsync("big");
        var bigResult = await other.Completions.NextAsync();
        var after = await engine.GetModelsAsync(Ct);

        Assert.Equal(EngineError.None, held.Status);
        Assert.True(bigResult.Status == EngineError.None, bigResult.Message);
        other.AssertResults("big", bigSlot);
        Assert.Equal((false, true), (ModelEngine.StatusOf(after, "a").Resident, ModelEngine.StatusOf(after, "big").Resident));
    }

    [Fact]
    public async Task A_cold_step_whose_deadline_is_far_off_waits_rather_than_evict_a_model_mid_request_and_runs_as_its_deadline_nears()
    {
        await using var pair = await HolderAndBig.StartAsync(new SchedulingOptions { SwapAmortization = 0 });
        var (engine, holder, other) = (pair.Engine, pair.Holder, pair.Other);

        await holder.SubmitAsync("a");
        await holder.Completions.NextAsync();
        var deadline = Deadline.FromNow(TimeSpan.FromSeconds(1.5));
        var bigSlot = await other.SubmitAsync("big", schedule: step => step.SetDeadline(deadline, failIfLate: false));
        await holder.SubmitAsync("a");
        var warmResult = await holder.Completions.NextAsync();
        var meanwhile = await engine.GetModelsAsync(Ct);
        var bigResult = await other.Completions.NextAsync();

        Assert.Equal(EngineError.None, warmResult.Status);
        Assert.Equal((true, false), (ModelEngine.StatusOf(meanwhile, "a").Resident, ModelEngine.StatusOf(meanwhile, "big").Resident));
        Assert.True(bigResult.Status == EngineError.None, bigResult.Message);
        Assert.True(bigResult.StartedAtNs > deadline - Deadline.Nanoseconds(TimeSpan.FromSeconds(0.5)), "the cold step evicted a wanted model a second before its deadline");
        other.AssertResults("big", bigSlot);
    }

    [Fact]
    public async Task Cold_steps_due_now_evict_one_at_a_time_each_when_the_swap_before_it_has_landed()
    {
        // No turns, so every resident model is a victim; a 4 MiB swap-in at 10 MB/s takes 0.4 s.
        await using var engine = await ModelEngine.StartAsync(
            options => options with { Scheduling = new SchedulingOptions { SwapAmortization = 0 } },
            pinnedCopyBytesPerSecond: 10e6);
        await using var service = await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = ServiceUid });
        foreach (var (name, seed) in new[] { ("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5) })
        {
            await service.RegisterAsync(ModelEngine.Sized(name, seed));
        }
        // Three fit beside the buffers.
        foreach (var name in new[] { "a", "b", "c" })
        {
            await service.RunAndCheckAsync(name);
        }

        var now = MonotonicClock.NowNanoseconds();
        var dSlot = await service.SubmitAsync("d", schedule: step => step.SetDeadline(now, failIfLate: false));
        var eSlot = await service.SubmitAsync("e", schedule: step => step.SetDeadline(now, failIfLate: false));
        var meanwhile = await engine.GetModelsAsync(Ct);
        var results = await service.Completions.NextAsync(2);

        Assert.All(results, c => Assert.True(c.Status == EngineError.None, c.Message));
        service.AssertResults("d", dSlot);
        service.AssertResults("e", eSlot);
        // While d's swap-in lands, e's step is held: it has evicted nothing yet.
        Assert.Equal((true, false), (ModelEngine.StatusOf(meanwhile, "d").Resident, ModelEngine.StatusOf(meanwhile, "e").Resident));
        Assert.Equal(2, new[] { "a", "b", "c" }.Count(name => ModelEngine.StatusOf(meanwhile, name).Resident));
    }
}
