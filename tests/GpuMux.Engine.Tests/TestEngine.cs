using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests;

/// <summary>An engine on a small simulated device of its own, with the module cache in memory unless a directory is given.</summary>
internal static class TestEngine
{
    public const ulong Capacity = 256UL << 20;

    public static readonly SessionIdentity Identity = new(1000, 1000, 4242, "engine-tests");

    public static Task<GpuEngine> StartAsync(EngineOptions? options = null, string? moduleCache = null) =>
        GpuEngine.StartAsync(Backend(moduleCache), options ?? new EngineOptions(), cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>
    /// <paramref name="options"/> with the right to load modules given to <see cref="Identity"/>'s
    /// uid, which tenants have only where the configuration gives it.
    /// </summary>
    public static EngineOptions TrustingModules(EngineOptions? options = null) =>
        (options ?? new EngineOptions()) with
        {
            Tenants = new TenantLimitsOptions { ByUid = new Dictionary<uint, TenantLimits> { [Identity.Uid] = new() { Kernels = KernelPolicy.Trusted } } },
        };

    public static GpuBackend Backend(string? moduleCache = null) =>
        GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = moduleCache,
            Sim = new SimDeviceOptions { CapacityBytes = Capacity },
        });

    public static (EngineSession Session, CompletionRecorder Completions) Open(this GpuEngine engine)
    {
        var completions = new CompletionRecorder();
        return (engine.OpenSession(Identity, completions), completions);
    }

    public static async Task<StepCompletion> RunAsync(this EngineSession session, CompletionRecorder completions, Action<Step> fill)
    {
        var step = session.RentStep();
        fill(step);
        session.Submit(step);
        return await completions.NextAsync();
    }
}
