using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>Engines for the scheduling tests, and what they report of one tenant or one class.</summary>
internal static class SchedulingEngine
{
    /// <summary>The default classes, with no starvation bound but the batch class's <paramref name="batchMinimumShare"/>.</summary>
    public static Task<GpuEngine> StartAsync(double batchMinimumShare) =>
        TestEngine.StartAsync(new EngineOptions
        {
            Scheduling = new SchedulingOptions { Classes = [new("interactive", 0), new("standard", 0), new("batch", batchMinimumShare)] },
        });

    public static Task<GpuEngine> StartAsync(IReadOnlyDictionary<uint, TenantLimits> limits) =>
        TestEngine.StartAsync(new EngineOptions { Tenants = new TenantLimitsOptions { ByUid = limits } });

    /// <summary>
    /// An engine on a device whose copies move 1 MB/s: a copy of some KiB takes milliseconds of
    /// modelled time but no CPU, so the device surely runs another stream's kernel meanwhile.
    /// </summary>
    public static Task<GpuEngine> StartWithSlowCopiesAsync()
    {
        var backend = GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = null,
            Sim = new SimDeviceOptions { CapacityBytes = TestEngine.Capacity, PinnedCopyBytesPerSecond = 1e6, PageableCopyBytesPerSecond = 1e6 },
        });
        return GpuEngine.StartAsync(backend, new EngineOptions(), cancellationToken: Ct);
    }

    public static async Task<TenantStatus> TenantAsync(this GpuEngine engine, uint uid) =>
        Assert.Single(await engine.GetTenantsAsync(Ct), t => t.Uid == uid);

    public static ClassStatus ClassOf(EngineStatus status, string name) => Assert.Single(status.Classes, c => c.Name == name);
}
