using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Models;

/// <summary>A sticky fault takes the device's memory with it, models' weights included; the staged copies bring them back.</summary>
public sealed class ModelFaultTests
{
    [Fact]
    public async Task After_a_fault_resident_models_swap_in_again_and_give_the_reference_s_results()
    {
        await using var engine = await ModelEngine.StartAsync(options => TestEngine.TrustingModules(options with { PinnedPoolBytes = 6 << 20 }));
        await using var tenant = await ModelTenant.OpenAsync(engine);
        Assert.Equal(ModelTier.Pinned, (await tenant.RegisterAsync(ModelEngine.Sized("pinned", 1))).Tier);
        Assert.Equal(ModelTier.File, (await tenant.RegisterAsync(ModelEngine.Sized("file", 2, WeightType.F16))).Tier);
        await tenant.RunAndCheckAsync("pinned");
        await tenant.RunAndCheckAsync("file");
        var before = await engine.GetStatusAsync(Ct);
        Assert.All(await engine.GetModelsAsync(Ct), m => Assert.True(m.Resident));
        var victim = await tenant.Session.AllocateBufferAsync(1024, Ct);
        var runaway = await RunawayFill.LoadAsync(tenant.Session);

        var fault = await tenant.Session.RunAsync(tenant.Completions, step =>
        {
            step.UseModel(tenant.HandleOf("pinned"));
            RunawayFill.Add(step, runaway, victim);
        });

        Assert.True(fault.Status == EngineError.KernelFault, fault.Message);
        Assert.All(await engine.GetModelsAsync(Ct), m => Assert.False(m.Resident));
        await tenant.RunAndCheckAsync("file");
        await tenant.RunAndCheckAsync("pinned");
        var models = await engine.GetModelsAsync(Ct);
        Assert.All(models, m => Assert.Equal(2, m.SwapCount));
        var after = await engine.GetStatusAsync(Ct);
        Assert.Equal(before.DevicePoolBytes, after.DevicePoolBytes);
        Assert.Equal(before.PinnedPoolFreeBytes, after.PinnedPoolFreeBytes);
        Assert.Equal(before.DevicePoolFreeBytes - ModelEngine.Page, after.DevicePoolFreeBytes);
    }
}
