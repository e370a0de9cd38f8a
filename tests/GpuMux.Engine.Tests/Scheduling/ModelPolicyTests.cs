using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Tests.Models;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>
/// How the policies share the device pool among models (the step policy's "never evicted from
/// under a step" is in <see cref="ModelResidencyTests"/>). The pool is 64 pages; each tenant's
/// buffers take three; a sized model takes 16, a big one 43.
/// </summary>
public sealed class ModelPolicyTests
{
    [Fact]
    public async Task Under_the_request_policy_a_model_mid_request_is_not_evicted_for_another_model_s_step_which_runs_once_the_request_ends()
    {
        await using var pair = await HolderAndBig.StartAsync(new SchedulingOptions { Policy = SchedulingPolicy.Request });
        var (engine, holder, other) = (pair.Engine, pair.Holder, pair.Other);

        var first = await RequestStepAsync(holder, "a", last: false);
        var slotBig = await other.SubmitAsync("big", requestId: 1);
        var middle = await RequestStepAsync(holder, "a", last: false);
        var duringRequest = await engine.GetModelsAsync(Ct);
        var waiting = (await engine.GetStatusAsync(Ct)).Sessions.Single(s => s.Id == other.Session.Id);
        var last = await RequestStepAsync(holder, "a", last: true);
        var bigResult = await other.Completions.NextAsync();
        var after = await engine.GetModelsAsync(Ct);

        Assert.All([first, middle, last], c => Assert.Equal(EngineError.None, c.Status));
        Assert.True(ModelEngine.StatusOf(duringRequest, "a").Resident);
        Assert.False(ModelEngine.StatusOf(duringRequest, "big").Resident);
        Assert.Equal((1, 0L), (waiting.StepsQueued, waiting.StepsCompleted));
        Assert.True(bigResult.Status == EngineError.None, bigResult.Message);
        Assert.True(bigResult.StartedAtNs >= last.EndedAtNs);
        other.AssertResults("big", slotBig);
        Assert.Equal((1L, false), (ModelEngine.StatusOf(after, "a").SwapCount, ModelEngine.StatusOf(after, "a").Resident));
        Assert.True(ModelEngine.StatusOf(after, "big").Resident);
    }

    [Fact]
    public async Task Under_the_step_policy_a_model_mid_request_keeps_its_place_through_its_turn_and_another_model_s_step_waits_for_it()
    {
        // A turn of a thousand swap-ins' time: far longer than this test takes.
        await using var pair = await HolderAndBig.StartAsync(new SchedulingOptions { SwapAmortization = 1000 });
        var (engine, holder, other) = (pair.Engine, pair.Holder, pair.Other);

        var first = await RequestStepAsync(holder, "a", last: false);
        var slotBig = await other.SubmitAsync("big", requestId: 1);
        var middle = await RequestStepAsync(holder, "a", last: false);
        var duringRequest = await engine.GetModelsAsync(Ct);
        var last = await RequestStepAsync(holder, "a", last: true);
        var bigResult = await other.Completions.NextAsync();

        Assert.All([first, middle, last], c => Assert.Equal(EngineError.None, c.Status));
        Assert.True(ModelEngine.StatusOf(duringRequest, "a").Resident);
        Assert.False(ModelEngine.StatusOf(duringRequest, "big").Resident);
        Assert.True(bigResult.Status == EngineError.None, bigResult.Message);
        Assert.True(bigResult.StartedAtNs >= last.EndedAtNs);
        other.AssertResults("big", slotBig);
    }

    [Fact]
    public async Task Under_the_step_policy_once_its_turn_is_over_a_model_mid_request_gives_way_between_its_steps_and_comes_back_for_the_next()
    {
        await using var pair = await HolderAndBig.StartAsync(new SchedulingOptions { SwapAmortization = 0 });
        var (engine, holder, other) = (pair.Engine, pair.Holder, pair.Other);

        var first = await RequestStepAsync(holder, "a", last: false);
        var slotBig = await other.SubmitAsync("big", requestId: 1);
        var bigResult = await other.Completions.NextAsync();
        var betweenSteps = await engine.GetModelsAsync(Ct);
        var last = await RequestStepAsync(holder, "a", last: true);
        var after = await engine.GetModelsAsync(Ct);

        Assert.All([first, last], c => Assert.Equal(EngineError.None, c.Status));
        Assert.True(bigResult.Status == EngineError.None, bigResult.Message);
        other.AssertResults("big", slotBig);
        Assert.Equal((false, true), (ModelEngine.StatusOf(betweenSteps, "a").Resident, ModelEngine.StatusOf(betweenSteps, "big").Resident));
        Assert.Equal((2L, true), (ModelEngine.StatusOf(after, "a").SwapCount, ModelEngine.StatusOf(after, "a").Resident));
    }

    [Fact]
    public async Task Under_the_dedicated_policy_a_model_that_does_not_fit_is_refused_and_those_that_do_are_never_swapped_again()
    {
        await using var engine = await ModelEngine.StartAsync(options => options with { Scheduling = new SchedulingOptions { Policy = SchedulingPolicy.Dedicated } });
        await using var first = await OpenAsync(engine, 7001);
        await using var second = await OpenAsync(engine, 7002);
        using var tooMany = ModelEngine.Sized("d", 4);
        await first.RegisterAsync(ModelEngine.Sized("a", 1));
        await first.RegisterAsync(ModelEngine.Sized("b", 2));
        await second.RegisterAsync(ModelEngine.Sized("c", 3));

        // Three models and two tenants' buffers leave 10 pages: a fourth model of 16 cannot stay beside them.
        var refused = await Assert.ThrowsAsync<EngineException>(() => second.RegisterAsync(tooMany));
        var registered = await engine.GetModelsAsync(Ct);
        for (var round = 0; round < 3; round++)
        {
            var slots = new List<(ModelTenant Tenant, string Model, int Slot)>();
            foreach (var (tenant, model) in new[] { (first, "a"), (second, "c"), (first, "b"), (second, "c") })
            {
                slots.Add((tenant, model, await tenant.SubmitAsync(model, spinMicroseconds: 500)));
            }
            Assert.All(await first.Completions.NextAsync(2), c => Assert.Equal(EngineError.None, c.Status));
            Assert.All(await second.Completions.NextAsync(2), c => Assert.Equal(EngineError.None, c.Status));
            foreach (var (tenant, model, slot) in slots)
            {
                tenant.AssertResults(model, slot);
            }
        }
        var after = await engine.GetModelsAsync(Ct);

        Assert.Equal(EngineError.OutOfMemory, refused.Error);
        Assert.Contains("Dedicated", refused.Message);
        Assert.Equal(["a", "b", "c"], registered.Select(m => m.Name).Order());
        Assert.All(registered, m => Assert.True(m.Resident));
        Assert.All(after, m => Assert.Equal((true, 1L), (m.Resident, m.SwapCount)));
        Assert.Equal([("a", 3L), ("b", 3L), ("c", 6L)], after.OrderBy(m => m.Name).Select(m => (m.Name, m.Usage.Steps)));
    }

    [Fact]
    public async Task Under_the_step_policy_six_tenants_hammering_their_own_models_where_two_fit_all_get_their_results_and_swaps_are_counted()
    {
        const int Tenants = 6;
        const int StepsEach = 8;
        await using var engine = await ModelEngine.StartAsync();
        var tenants = new List<ModelTenant>();
        try
        {
            for (var t = 0; t < Tenants; t++)
            {
                var tenant = await OpenAsync(engine, 7100 + (uint)t);
                tenants.Add(tenant);
                await tenant.RegisterAsync(ModelEngine.Sized($"m{t}", t));
            }

            var slots = new List<(ModelTenant Tenant, string Model, int Slot)>();
            for (var i = 0; i < StepsEach; i++)
            {
                foreach (var (tenant, t) in tenants.Select((tenant, t) => (tenant, t)))
                {
                    slots.Add((tenant, $"m{t}", await tenant.SubmitAsync($"m{t}", spinMicroseconds: 1000, requestId: (uint)i)));
                }
            }
            var results = new List<StepCompletion[]>();
            foreach (var tenant in tenants)
            {
                results.Add(await tenant.Completions.NextAsync(StepsEach));
            }
            var models = await engine.GetModelsAsync(Ct);

            foreach (var completions in results)
            {
                Assert.All(completions, c => Assert.True(c.Status == EngineError.None, c.Message));
                Assert.Equal(Enumerable.Range(0, StepsEach).Select(i => (uint)i), completions.Select(c => c.RequestId));
            }
            foreach (var (tenant, model, slot) in slots)
            {
                tenant.AssertResults(model, slot);
            }
            Assert.True(models.Sum(m => m.SwapCount) > Tenants, $"{models.Sum(m => m.SwapCount)} swap-ins of {Tenants} models of which two fit");
            foreach (var (tenant, t) in tenants.Select((tenant, t) => (tenant, t)))
            {
                var model = ModelEngine.StatusOf(models, $"m{t}");
                var account = (await engine.TenantAsync(tenant.Session.Identity.Uid)).Usage;
                Assert.Equal((StepsEach, model.SwapCount), (model.Usage.Steps, model.Usage.Swaps));
                Assert.Equal((StepsEach, model.SwapCount), (account.Steps, account.Swaps));
            }
        }
        finally
        {
            foreach (var tenant in tenants)
            {
                await tenant.DisposeAsync();
            }
        }
    }

    private static Task<ModelTenant> OpenAsync(GpuEngine engine, uint uid) => ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = uid });

    /// <summary>A step of a request on <paramref name="model"/>: it only needs the model resident.</summary>
    private static Task<StepCompletion> RequestStepAsync(ModelTenant tenant, string model, bool last) =>
        tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(tenant.HandleOf(model));
            if (last)
            {
                step.EndRequest();
            }
        });
}
