namespace GpuMux.Engine.Tests.Models;

/// <summary>Models the pinned pool has no room for stay in their files and stream through the bounce buffers at each swap-in.</summary>
public sealed class FileTierTests
{
    [Fact]
    public async Task Models_that_do_not_fit_the_pinned_pool_stream_from_their_files_and_give_the_reference_s_results()
    {
        await using var engine = await ModelEngine.StartAsync(options => options with { PinnedPoolBytes = 6 << 20 });
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var tiers = new List<ModelTier>();
        for (var i = 0; i < 5; i++)
        {
            tiers.Add((await tenant.RegisterAsync(ModelEngine.Sized($"m{i}", i, i % 2 == 0 ? Gpu.Kernels.WeightType.F16 : Gpu.Kernels.WeightType.F32))).Tier);
        }

        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                await tenant.RunAndCheckAsync($"m{i}");
            }
        }
        // Several steps of File-tier models at once: their swap-ins queue for the ring, and each step waits for its model's groups.
        var slots = new List<(string Model, int Slot)>();
        foreach (var i in new[] { 4, 3, 1, 2, 4, 0, 3 })
        {
            slots.Add(($"m{i}", await tenant.SubmitAsync($"m{i}")));
        }
        Assert.All(await tenant.Completions.NextAsync(slots.Count), c => Assert.True(c.Status == EngineError.None, c.Message));
        foreach (var (model, slot) in slots)
        {
            tenant.AssertResults(model, slot);
        }

        Assert.Equal([ModelTier.Pinned, ModelTier.File, ModelTier.File, ModelTier.File, ModelTier.File], tiers);
        var models = await engine.GetModelsAsync(Ct);
        Assert.All(models.Where(m => m.Tier == ModelTier.File), m => Assert.True(m.SwapCount >= 2 && m.MedianSwapInBytesPerSecond > 0, $"{m.Name}: {m.SwapCount}"));
    }

    [Fact]
    public async Task Without_a_pinned_pool_every_model_streams_from_its_file_in_as_many_groups_as_it_has()
    {
        await using var engine = await ModelEngine.StartAsync(options => options with { PinnedPoolBytes = 0, LayerGroupTensors = 1, BounceBuffers = 2 });
        await using var first = await ModelTenant.OpenAsync(engine);
        await using var second = await ModelTenant.OpenAsync(engine);
        foreach (var (tenant, t) in new[] { (first, 0), (second, 1) })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(ModelTier.File, (await tenant.RegisterAsync(ModelEngine.Sized($"t{t}m{i}", (10 * t) + i))).Tier);
            }
        }
        Assert.Equal(0UL, (await engine.GetStatusAsync(Ct)).PinnedPoolBytes);

        for (var round = 0; round < 2; round++)
        {
            var slots = new List<(ModelTenant Tenant, string Model, int Slot)>();
            for (var i = 0; i < 3; i++)
            {
                slots.Add((first, $"t0m{i}", await first.SubmitAsync($"t0m{i}")));
                slots.Add((second, $"t1m{(i + 1) % 3}", await second.SubmitAsync($"t1m{(i + 1) % 3}")));
            }
            Assert.All(await first.Completions.NextAsync(3), c => Assert.True(c.Status == EngineError.None, c.Message));
            Assert.All(await second.Completions.NextAsync(3), c => Assert.True(c.Status == EngineError.None, c.Message));
            foreach (var (tenant, model, slot) in slots)
            {
                tenant.AssertResults(model, slot);
            }
        }
    }

    [Fact]
    public async Task A_file_cut_short_under_a_File_tier_model_fails_the_step_that_needs_the_missing_data_and_a_later_swap_in_reads_it_again()
    {
        await using var engine = await ModelEngine.StartAsync(options => options with { PinnedPoolBytes = 0 });
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var model = ModelEngine.Sized("cut", 3);
        var image = TestModel.Image(model.Tensors);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, image);
            Assert.Equal(ModelTier.File, (await tenant.RegisterAsync(model, File.OpenHandle(path))).Tier);
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(image.Length / 2);
            }

            await tenant.SubmitAsync("cut");
            var cut = await tenant.Completions.NextAsync();
            File.WriteAllBytes(path, image);

            Assert.Equal(EngineError.InvalidModel, cut.Status);
            Assert.Contains("could not be read from its file", cut.Message);
            Assert.Contains("truncated", cut.Message);
            await tenant.RunAndCheckAsync("cut");
            Assert.Equal(2, Assert.Single(await engine.GetModelsAsync(Ct)).SwapCount);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_model_kept_as_a_file_takes_a_descriptor_from_the_budget_is_refused_when_none_is_left_and_gives_it_back_when_unregistered()
    {
        var descriptors = new DescriptorBudget(2);
        await using var engine = await ModelEngine.StartAsync(options => options with { PinnedPoolBytes = 0, Descriptors = descriptors });
        await using var tenant = await ModelTenant.OpenAsync(engine);
        var first = await tenant.RegisterAsync(ModelEngine.Sized("first", 1));
        await tenant.RegisterAsync(ModelEngine.Sized("second", 2));
        Assert.Equal(2, descriptors.InUse);

        var refused = await Assert.ThrowsAsync<EngineException>(() => tenant.RegisterAsync(ModelEngine.Sized("third", 3)));
        Assert.Equal(EngineError.QuotaExceeded, refused.Error);
        Assert.Contains("descriptor limit", refused.Message);
        Assert.Equal(2, descriptors.InUse);

        await tenant.Session.UnregisterModelAsync(first.Model, Ct);
        Assert.Equal(1, descriptors.InUse);
        await tenant.RegisterAsync(ModelEngine.Sized("third", 3));
        await tenant.RunAndCheckAsync("third");
        await tenant.DisposeAsync();
        Assert.Equal(0, descriptors.InUse);
    }
}
