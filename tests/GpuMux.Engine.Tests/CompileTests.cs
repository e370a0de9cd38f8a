using System.Collections.Concurrent;
using System.Text;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests;

/// <summary>
/// CUDA C is compiled off the engine thread, so that a compile of seconds (NVRTC's, on a real
/// source) holds up no session's steps, and at most a bounded number at a time per tenant. The
/// Sim compiles in microseconds: a compile is made slow by holding it in the Sim's test seam.
/// </summary>
public sealed class CompileTests
{
    private static readonly SessionIdentity Other = new(2000, 2000, 4343, "other");

    [Fact]
    public async Task A_compile_held_for_as_long_as_it_takes_holds_up_no_other_session_s_steps()
    {
        var compiles = new HeldCompiles("slow.cu");
        await using var engine = await StartAsync(compiles, TestEngine.TrustingModules());
        var (compiling, _) = engine.Open();
        var (bystander, completions) = engine.Open();
        var spin = await bystander.GetFunctionAsync(0, KernelNames.Spin, Ct);

        var load = compiling.LoadModuleAsync(ModuleFormat.CudaC, "slow.cu", Source(KernelNames.Spin), Ct);
        await compiles.EnteredAsync("slow.cu");
        var steps = new List<StepCompletion>();
        for (var i = 0; i < 3; i++)
        {
            steps.Add(await bystander.RunAsync(completions, step =>
            {
                step.AddLaunch(spin, 1, 32, 0);
                step.AddScalarArgument(100UL);
            }));
        }
        var status = await engine.GetStatusAsync(Ct);
        var finishedEarly = load.IsCompleted;
        compiles.Release("slow.cu");
        var loaded = await load;

        Assert.All(steps, step => Assert.Equal(EngineError.None, step.Status));
        Assert.Equal(2, status.Sessions.Count);
        Assert.False(finishedEarly);
        Assert.NotEqual(0u, await compiling.GetFunctionAsync(loaded.Module, KernelNames.Spin, Ct));
    }

    [Fact]
    public async Task Compiles_over_a_tenant_s_bound_wait_their_turn_while_other_tenants_compile()
    {
        var compiles = new HeldCompiles("first.cu", "second.cu");
        var options = new EngineOptions
        {
            MaxConcurrentCompilesPerTenant = 1,
            Tenants = new TenantLimitsOptions { Default = new() { Kernels = KernelPolicy.Trusted } },
        };
        await using var engine = await StartAsync(compiles, options);
        var (first, _) = engine.Open();
        var (second, _) = engine.Open();
        var other = engine.OpenSession(Other, new CompletionRecorder());

        var holding = first.LoadModuleAsync(ModuleFormat.CudaC, "first.cu", Source(KernelNames.Spin), Ct);
        await compiles.EnteredAsync("first.cu");
        var waiting = second.LoadModuleAsync(ModuleFormat.CudaC, "second.cu", Source(KernelNames.Spin), Ct);
        await other.LoadModuleAsync(ModuleFormat.CudaC, "other.cu", Source(KernelNames.Spin), Ct);
        var secondStartedEarly = compiles.HasEntered("second.cu") || waiting.IsCompleted;
        compiles.Release("first.cu");
        await holding;
        await compiles.EnteredAsync("second.cu");
        compiles.Release("second.cu");
        await waiting;

        Assert.False(secondStartedEarly);
    }

    [Fact]
    public async Task Concurrent_compiles_of_one_source_share_the_disk_cache_safely()
    {
        var cache = Directory.CreateTempSubdirectory("gpumux-compile-tests-");
        try
        {
            var options = TestEngine.TrustingModules(new EngineOptions { MaxConcurrentCompilesPerTenant = 8 });
            await using var engine = await TestEngine.StartAsync(options, cache.FullName);
            var sessions = Enumerable.Range(0, 8).Select(_ => engine.Open().Session).ToArray();

            var loads = await Task.WhenAll(sessions.Select(session => session.LoadModuleAsync(ModuleFormat.CudaC, "shared.cu", Source(KernelNames.FillF32), Ct)));
            var again = await sessions[0].LoadModuleAsync(ModuleFormat.CudaC, "shared.cu", Source(KernelNames.FillF32), Ct);

            Assert.All(loads, load => Assert.NotEqual(0u, load.Module));
            Assert.True(again.FromCache);
            // The built-in kernels' entry, and the one the eight compiles wrote.
            Assert.Equal(2, cache.GetFiles().Length);
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    private static byte[] Source(string kernel) =>
        Encoding.UTF8.GetBytes($"extern \"C\" __global__ void {kernel}(unsigned long long a) {{}}\n");

    private static Task<GpuEngine> StartAsync(HeldCompiles compiles, EngineOptions options) =>
        GpuEngine.StartAsync(
            GpuBackends.CreateSim(new GpuBackendOptions
            {
                ModuleCacheDirectory = null,
                Sim = new SimDeviceOptions { CapacityBytes = TestEngine.Capacity, BeforeCompileForTests = compiles.OnCompile },
            }),
            options,
            cancellationToken: Ct);

    /// <summary>Compiles of the named sources block in the Sim's compiler until the test releases them; others pass.</summary>
    private sealed class HeldCompiles(params string[] held)
    {
        private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

        private readonly ConcurrentDictionary<string, (TaskCompletionSource Entered, ManualResetEventSlim Release)> _held = new(
            held.Select(name => KeyValuePair.Create(name, (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new ManualResetEventSlim()))));

        public void OnCompile(KernelSource source)
        {
            if (_held.TryGetValue(source.Name, out var compile))
            {
                compile.Entered.TrySetResult();
                compile.Release.Wait(HangGuard);
            }
        }

        public Task EnteredAsync(string name) => _held[name].Entered.Task.WaitAsync(HangGuard, Ct);

        public bool HasEntered(string name) => _held[name].Entered.Task.IsCompleted;

        public void Release(string name) => _held[name].Release.Set();
    }
}
