using GpuMux.Engine.Tenants;

namespace GpuMux.Engine.Tests.Models;

/// <summary>
/// Models that do not all fit the device pool at once: made resident on demand, evicted without
/// copying back, swapped in again, never evicted from under a step, and sharing the pool with
/// buffers. The pool is 64 pages; each tenant's three buffers take three; each model takes 16.
/// </summary>
public sealed class ModelResidencyTests
{
    [Fact]
    public async Task Models_four_times_the_pool_used_in_turn_and_interleaved_give_the_reference_s_results_every_time()
    {
        const int ModelsPerTenant = 8;
        await using var engine = await ModelEngine.StartAsync();
        var tenants = new[] { await ModelTenant.OpenAsync(engine), await ModelTenant.OpenAsync(engine) };
        await using var first = tenants[0];
        await using var second = tenants[1];
        ulong total = 0;
        for (var t = 0; t < tenants.Length; t++)
        {
            for (var i = 0; i < ModelsPerTenant; i++)
            {
                var registration = await tenants[t].RegisterAsync(ModelEngine.Sized($"t{t}m{i}", (t * 100) + i, i % 2 == 0 ? Gpu.Kernels.WeightType.F32 : Gpu.Kernels.WeightType.F16));
                total += registration.Bytes;
            }
        }
        Assert.True(total >= 4 * ModelEngine.Pool - (2 * ModelEngine.Page));

        // In turn: each step waits for the one before.
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < ModelsPerTenant; i++)
            {
                await first.RunAndCheckAsync($"t0m{i}");
                await AssertPoolHeldAsync(engine);
            }
        }

        // Interleaved: both tenants keep several steps of different models queued at once.
        for (var round = 0; round < 3; round++)
        {
            var slots = new List<(ModelTenant Tenant, string Model, int Slot)>();
            for (var i = 0; i < ModelsPerTenant; i++)
            {
                foreach (var (tenant, t) in tenants.Select((tenant, t) => (tenant, t)))
                {
                    var name = $"t{t}m{(i + round + t) % ModelsPerTenant}";
                    slots.Add((tenant, name, await tenant.SubmitAsync(name, requestId: (uint)i)));
                }
            }
            foreach (var tenant in tenants)
            {
                var completions = await tenant.Completions.NextAsync(ModelsPerTenant);
                Assert.All(completions, c => Assert.True(c.Status == EngineError.None, c.Message));
                Assert.Equal(Enumerable.Range(0, ModelsPerTenant).Select(i => (uint)i), completions.Select(c => c.RequestId));
            }
            foreach (var (tenant, model, slot) in slots)
            {
                tenant.AssertResults(model, slot);
            }
            await AssertPoolHeldAsync(engine);
        }

        // 64 uses of 16 models, at most 3 of which fit at once: most uses are swap-ins.
        var models = await engine.GetModelsAsync(Ct);
        Assert.Equal(2 * ModelsPerTenant, models.Count);
        Assert.All(models, m => Assert.True(m.SwapCount >= 1 && m.MedianSwapInBytesPerSecond > 0));
        Assert.True(models.Sum(m => m.SwapCount) >= 40, $"{models.Sum(m => m.SwapCount)} swap-ins");
    }

    [Fact]
    public async Task A_model_with_a_step_in_flight_is_never_evicted_and_steps_that_need_its_memory_wait_for_it()
    {
        // The models are sampled while a's step runs; on a machine too loaded to sample within its
        // spin, the whole case runs again with a longer one, so the check is made, not skipped.
        var samples = 0;
        foreach (var spinMicroseconds in (ulong[])[200_000, 2_000_000, 10_000_000])
        {
            samples = await EvictionWhileBusyAsync(spinMicroseconds);
            if (samples > 0)
            {
                break;
            }
        }

        Assert.True(samples > 0, "a's step never ran while the models were sampled, even with a 10 s spin");
    }

    /// <summary>How many times a was seen resident while its step ran and steps wanting its memory waited; checks every step's result.</summary>
    private static async Task<int> EvictionWhileBusyAsync(ulong spinMicroseconds)
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var busy = await ModelTenant.OpenAsync(engine);
        await using var others = await ModelTenant.OpenAsync(engine);
        await busy.RegisterAsync(ModelEngine.Sized("a", 1));
        foreach (var name in new[] { "b", "c", "d" })
        {
            await others.RegisterAsync(ModelEngine.Sized(name, name[0]));
        }
        await others.RegisterAsync(ModelEngine.Big("big", 9));

        var slotA = await busy.SubmitAsync("a", spinMicroseconds: spinMicroseconds);
        await WhileAsync(engine, status => RunningOf(status, busy) == 0);
        var slots = new List<(string Model, int Slot)>();
        foreach (var name in new[] { "b", "c", "d", "b", "c", "d", "big" })
        {
            slots.Add((name, await others.SubmitAsync(name)));
        }
        var samples = 0;
        while (true)
        {
            // Models first: if a's step is still running after, it was running when they were taken.
            var models = await engine.GetModelsAsync(Ct);
            if (RunningOf(await engine.GetStatusAsync(Ct), busy) == 0)
            {
                break;
            }
            Assert.True(ModelEngine.StatusOf(models, "a").Resident);
            samples++;
            await Task.Delay(5, Ct);
        }
        var resultA = await busy.Completions.NextAsync();
        var results = await others.Completions.NextAsync(slots.Count);

        Assert.Equal(EngineError.None, resultA.Status);
        Assert.All(results, c => Assert.True(c.Status == EngineError.None, c.Message));
        busy.AssertResults("a", slotA);
        foreach (var (model, slot) in slots)
        {
            others.AssertResults(model, slot);
        }
        var after = await engine.GetModelsAsync(Ct);
        Assert.Equal(1, ModelEngine.StatusOf(after, "a").SwapCount);
        Assert.True(ModelEngine.StatusOf(after, "big").Resident);
        Assert.False(ModelEngine.StatusOf(after, "a").Resident);
        return samples;
    }

    [Fact]
    public async Task Releases_asked_for_behind_a_waiting_step_wait_for_it_to_start()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var busy = await ModelTenant.OpenAsync(engine);
        await using var waiting = await ModelTenant.OpenAsync(engine);
        await busy.RegisterAsync(ModelEngine.Sized("a", 1));
        var big = await waiting.RegisterAsync(ModelEngine.Big("big", 9));
        var slotA = await busy.SubmitAsync("a", spinMicroseconds: 100_000);
        await WhileAsync(engine, status => RunningOf(status, busy) == 0);

        var slotBig = await waiting.SubmitAsync("big", requestId: 7);
        await waiting.Session.UnregisterModelAsync(big.Model, Ct);
        var afterRelease = waiting.Session.RentStep();
        afterRelease.RequestId = 8;
        afterRelease.UseModel(big.Model);
        waiting.Session.Submit(afterRelease);

        Assert.Equal(EngineError.None, (await busy.Completions.NextAsync()).Status);
        // A step refused before it reaches the device is told at once, ahead of the one on the device.
        var results = (await waiting.Completions.NextAsync(2)).ToDictionary(c => c.RequestId);
        Assert.True(results[7].Status == EngineError.None, results[7].Message);
        Assert.Equal(EngineError.UnknownHandle, results[8].Status);
        busy.AssertResults("a", slotA);
        waiting.AssertResults("big", slotBig);
        Assert.DoesNotContain(await engine.GetModelsAsync(Ct), m => m.Name == "big");
    }

    [Fact]
    public async Task Buffers_and_models_share_the_pool_and_idle_models_are_evicted_to_make_room_for_buffers()
    {
        await using var engine = await ModelEngine.StartAsync();
        await using var tenant = await ModelTenant.OpenAsync(engine);
        await tenant.RegisterAsync(ModelEngine.Big("big", 9));
        await tenant.RunAndCheckAsync("big");
        Assert.True(ModelEngine.StatusOf(await engine.GetModelsAsync(Ct), "big").Resident);

        // 24 pages: only if the idle model goes.
        var buffer = await tenant.Session.AllocateBufferAsync(6 << 20, Ct);

        Assert.False(ModelEngine.StatusOf(await engine.GetModelsAsync(Ct), "big").Resident);
        var refused = await tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(tenant.HandleOf("big"));
        });
        Assert.Equal(EngineError.OutOfMemory, refused.Status);
        Assert.Contains("buffers hold the rest", refused.Message);
        await tenant.Session.FreeBufferAsync(buffer, Ct);
        await tenant.RunAndCheckAsync("big");
        Assert.Equal(EngineError.OutOfMemory, (await Assert.ThrowsAsync<EngineException>(() => tenant.Session.AllocateBufferAsync(ModelEngine.Pool, Ct))).Error);
    }

    [Fact]
    public async Task A_tenant_s_buffers_over_all_its_sessions_are_held_to_its_limit()
    {
        await using var engine = await ModelEngine.StartAsync(options => options with { Tenants = new TenantLimitsOptions { Default = new TenantLimits { MaxDeviceBytes = 4 << 20 } } });
        var (first, _) = engine.Open();
        var (second, _) = engine.Open();
        var stranger = engine.OpenSession(TestEngine.Identity with { Uid = 4321 }, new CompletionRecorder());

        await first.AllocateBufferAsync(2 << 20, Ct);
        var held = await second.AllocateBufferAsync(1, Ct);
        var error = await Assert.ThrowsAsync<EngineException>(() => second.AllocateBufferAsync((2 << 20) - 1, Ct));
        await stranger.AllocateBufferAsync(4 << 20, Ct);
        await second.FreeBufferAsync(held, Ct);
        await second.AllocateBufferAsync(2 << 20, Ct);
        await first.DisposeAsync();
        await second.AllocateBufferAsync(2 << 20, Ct);

        Assert.Equal(EngineError.QuotaExceeded, error.Error);
        Assert.Contains("uid 1000", error.Message);
    }

    private static async Task AssertPoolHeldAsync(GpuEngine engine)
    {
        var resident = (await engine.GetModelsAsync(Ct)).Where(m => m.Resident).Sum(m => (long)m.Bytes);
        var status = await engine.GetStatusAsync(Ct);
        Assert.True((ulong)resident <= status.DevicePoolBytes - status.DevicePoolFreeBytes, $"{resident} bytes of models resident in a pool with {status.DevicePoolFreeBytes} of {status.DevicePoolBytes} free");
        Assert.True((ulong)resident <= ModelEngine.Pool);
    }

    private static int RunningOf(EngineStatus status, ModelTenant tenant) => status.Sessions.Single(s => s.Id == tenant.Session.Id).StepsRunning;

    private static async Task WhileAsync(GpuEngine engine, Func<EngineStatus, bool> condition)
    {
        while (condition(await engine.GetStatusAsync(Ct)))
        {
            await Task.Yield();
        }
    }
}
