using System.Text;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests;

/// <summary>
/// A module's kernels can address every session's memory, so loading one is a tenant's right:
/// tenants the configuration does not trust run the built-in kernels (and their models) only.
/// </summary>
public sealed class KernelPolicyTests
{
    private static readonly SessionIdentity Trusted = new(2000, 2000, 4343, "trusted");

    private static readonly byte[] Source = Encoding.UTF8.GetBytes("extern \"C\" __global__ void spin(unsigned long long us) {}\n");

    [Fact]
    public async Task A_tenant_the_configuration_does_not_trust_is_refused_every_module_before_it_is_compiled_and_still_runs_the_built_ins()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();

        var cudaC = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Source, Ct));
        var broken = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.CudaC, "broken.cu", "not C"u8.ToArray(), Ct));
        var ptx = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.Ptx, "spin.ptx", ".version 8.0\n"u8.ToArray(), Ct));
        var cubin = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.Cubin, "spin.cubin", new byte[] { 0x7f, 0x45, 0x4c, 0x46 }, Ct));
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        var step = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(spin, 1, 32, 0);
            step.AddScalarArgument(1UL);
        });

        Assert.All([cudaC, broken, ptx, cubin], refused => Assert.Equal(EngineError.PermissionDenied, refused.Error));
        Assert.Contains("uid 1000 may run the built-in kernels and its registered models only", cudaC.Message);
        Assert.Equal(EngineError.None, step.Status);
        Assert.Equal(0, Assert.Single((await engine.GetStatusAsync(Ct)).Sessions).Modules);
    }

    [Fact]
    public async Task Only_the_uids_the_configuration_trusts_load_modules()
    {
        var options = new EngineOptions
        {
            Tenants = new TenantLimitsOptions { ByUid = new Dictionary<uint, TenantLimits> { [Trusted.Uid] = new() { Kernels = KernelPolicy.Trusted } } },
        };
        await using var engine = await TestEngine.StartAsync(options);
        var trusted = engine.OpenSession(Trusted, new CompletionRecorder());
        var (other, _) = engine.Open();

        var loaded = await trusted.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Source, Ct);
        var refused = await Assert.ThrowsAsync<EngineException>(() => other.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Source, Ct));

        Assert.NotEqual(0u, await trusted.GetFunctionAsync(loaded.Module, KernelNames.Spin, Ct));
        Assert.Equal(EngineError.PermissionDenied, refused.Error);
    }

    [Fact]
    public async Task The_right_follows_the_tenant_limits_in_force_when_a_module_is_asked_for()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules());
        var (session, _) = engine.Open();

        await session.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Source, Ct);
        await engine.UpdateTenantLimitsAsync(new TenantLimitsOptions(), Ct);
        var revoked = await Assert.ThrowsAsync<EngineException>(() => session.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Source, Ct));
        await engine.UpdateTenantLimitsAsync(new TenantLimitsOptions { Default = new() { Kernels = KernelPolicy.Trusted } }, Ct);
        await session.LoadModuleAsync(ModuleFormat.CudaC, "spin.cu", Source, Ct);

        Assert.Equal(EngineError.PermissionDenied, revoked.Error);
        Assert.Equal(2, Assert.Single((await engine.GetStatusAsync(Ct)).Sessions).Modules);
    }
}
