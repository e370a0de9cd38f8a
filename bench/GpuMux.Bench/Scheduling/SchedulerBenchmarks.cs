using BenchmarkDotNet.Attributes;
using GpuMux.Engine.Tests.Scheduling;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// One scheduling decision as the engine thread makes it for every step (see
/// <see cref="HeldStepsRig"/>): the scheduler holds <see cref="HeldSteps"/> steps all along,
/// over <see cref="Tenants"/> tenants in three classes. No device is used.
/// </summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    private HeldStepsRig _rig = null!;

    [Params(10, 100, 1_000, 10_000)]
    public int HeldSteps { get; set; }

    [Params(1, 10, 100)]
    public int Tenants { get; set; }

    [GlobalSetup]
    public void Setup() => _rig = new HeldStepsRig(HeldSteps, Tenants);

    [GlobalCleanup]
    public void Cleanup() => _rig.Dispose();

    [Benchmark]
    public int Decide() => _rig.Decide();
}
