using System.Threading.Channels;
using GpuMux.Engine;
using GpuMux.Engine.Device;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Bench.Execution;

/// <summary>
/// How soon the engine learns that a step ended, in the engine's process: from the step's end on
/// the device to its completion handed to the session's sink, on an idle device and beside a
/// tenant that keeps it busy, and the engine thread's cost meanwhile.
/// </summary>
internal static class InProcessWake
{
    public static List<WakeRow> Measure(WakeOptions options)
    {
        var backend = GpuBackends.CreateSim(new GpuBackendOptions { Sim = new SimDeviceOptions() });
        var engine = GpuEngine.StartAsync(backend, new EngineOptions()).GetAwaiter().GetResult();
        try
        {
            var clock = new EngineThreadClock(engine);
            var before = clock.Read();
            Thread.Sleep(options.Idle);
            List<WakeRow> rows = [new WakeRow(options.IdleCase, [], [], clock.Read() - before)];
            foreach (var loaded in new[] { false, true })
            {
                rows.Add(MeasureAsync(engine, clock, loaded, options).GetAwaiter().GetResult());
            }
            return rows;
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static async Task<WakeRow> MeasureAsync(GpuEngine engine, EngineThreadClock clock, bool loaded, WakeOptions options)
    {
        var sink = new TimedSink();
        await using var session = engine.OpenSession(new SessionIdentity(1000, 1000, Environment.ProcessId, "bench-wake"), sink);
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, CancellationToken.None);
        var loadSink = new TimedSink();
        await using var load = engine.OpenSession(new SessionIdentity(2000, 2000, Environment.ProcessId, "bench-load"), loadSink);
        var loadSpin = await load.GetFunctionAsync(0, KernelNames.Spin, CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var loader = loaded ? Task.Run(() => Saturate(load, loadSpin, loadSink, stop.Token)) : Task.CompletedTask;

        var latencies = new List<double>(options.Steps);
        var before = clock.Read();
        for (var i = 0u; i < options.Steps; i++)
        {
            Submit(session, spin, i, WakeOptions.StepMicroseconds);
            var (completion, deliveredNs) = await sink.Completions.Reader.ReadAsync();
            latencies.Add((deliveredNs - completion.EndedAtNs) / 1e3);
        }
        var cost = clock.Read() - before;
        await stop.CancelAsync();
        await loader;
        return new WakeRow(loaded ? WakeOptions.LoadedCase : WakeOptions.IdleDeviceCase, [], latencies, cost);
    }

    /// <summary>Keeps two long steps of another tenant on the device at all times.</summary>
    private static async Task Saturate(EngineSession session, uint spin, TimedSink sink, CancellationToken stop)
    {
        Submit(session, spin, 0, WakeOptions.LoadStepMicroseconds);
        Submit(session, spin, 1, WakeOptions.LoadStepMicroseconds);
        var outstanding = 2;
        for (var i = 2u; outstanding > 0; i++)
        {
            await sink.Completions.Reader.ReadAsync(CancellationToken.None);
            outstanding--;
            if (!stop.IsCancellationRequested)
            {
                Submit(session, spin, i, WakeOptions.LoadStepMicroseconds);
                outstanding++;
            }
        }
    }

    private static void Submit(EngineSession session, uint spin, uint requestId, ulong microseconds)
    {
        var step = session.RentStep();
        step.RequestId = requestId;
        step.AddLaunch(spin, 1, 32, 0);
        step.AddScalarArgument(microseconds);
        session.Submit(step);
    }

    private sealed class TimedSink : IStepCompletionSink
    {
        public Channel<(StepCompletion Completion, long DeliveredNs)> Completions { get; } = Channel.CreateUnbounded<(StepCompletion, long)>();

        public void OnStepCompleted(in StepCompletion completion) =>
            Completions.Writer.TryWrite((completion, MonotonicClock.NowNanoseconds()));
    }
}
