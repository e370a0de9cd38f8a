using GpuMux.Engine;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Scheduling;

/// <summary>One case of the interactive benchmark on an engine of its own.</summary>
internal static class InteractiveBenchmark
{
    public const uint InteractiveUid = 1001;

    public const uint BatchUid = 1002;

    public const int WarmupSteps = 100;

    // The steps use no buffers and no models: a pool of a few pages is all the engine needs.
    private const ulong DevicePoolBytes = 64UL << 20;

    public static async Task<InteractiveCaseRun> MeasureAsync(GpuBackend backend, InteractiveOptions options, InteractiveCase @case)
    {
        var engineOptions = new EngineOptions { DevicePoolBytes = DevicePoolBytes, PinnedPoolBytes = 0 };
        await using var engine = await GpuEngine.StartAsync(backend, engineOptions).ConfigureAwait(false);
        var waiters = new StepWaiters();
        await using var session = engine.OpenSession(Identity(InteractiveUid, "interactive"), waiters);
        await session.AcquireLeaseAsync(new LeaseRequest(@case.InteractiveClass, null, null, 0)).ConfigureAwait(false);
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin).ConfigureAwait(false);
        var random = new Random(options.Seed);

        for (var i = 0; i < WarmupSteps; i++)
        {
            await RunStepAsync(session, waiters, spin, options, random).ConfigureAwait(false);
        }

        await using var batch = @case.BatchClass is { } batchClass
            ? await BatchLoad.StartAsync(engine, Identity(BatchUid, "batch"), batchClass, options.BatchInFlight, (ulong)options.BatchMicroseconds).ConfigureAwait(false)
            : null;
        var samples = new List<StepOutcome>(options.Steps);
        for (var i = 0; i < options.Steps; i++)
        {
            samples.Add(await RunStepAsync(session, waiters, spin, options, random).ConfigureAwait(false));
        }
        BatchFigures? figures = batch is null ? null : await batch.StopAsync().ConfigureAwait(false);
        return new InteractiveCaseRun(@case, samples, figures);
    }

    private static async Task<StepOutcome> RunStepAsync(EngineSession session, StepWaiters waiters, uint spin, InteractiveOptions options, Random random)
    {
        await Task.Delay(TimeSpan.FromMicroseconds(random.NextDouble() * options.MaxThinkMicroseconds)).ConfigureAwait(false);
        var step = session.RentStep();
        SpinShape.OneWarp.AddTo(step, spin, (ulong)options.StepMicroseconds);
        return (await waiters.SubmitAsync(session, step).ConfigureAwait(false)).ThrowIfFailed("an interactive step");
    }

    private static SessionIdentity Identity(uint uid, string role) => new(uid, uid, Environment.ProcessId, $"GpuMux.Bench interactive ({role})");
}

/// <summary>The timed interactive steps of one case, and what the batch tenant got done meanwhile (null when the case has none).</summary>
internal sealed record InteractiveCaseRun(InteractiveCase Case, IReadOnlyList<StepOutcome> Steps, BatchFigures? Batch)
{
    public SampleStatistics QueuedToEnd => SampleStatistics.Of(Steps.Select(s => s.QueuedToEndMilliseconds));

    public SampleStatistics Client => SampleStatistics.Of(Steps.Select(s => s.ClientMilliseconds));

    public SampleStatistics Device => SampleStatistics.Of(Steps.Select(s => s.DeviceMilliseconds));
}
