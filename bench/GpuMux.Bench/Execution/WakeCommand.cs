using System.Globalization;
using System.Threading.Channels;
using GpuMux.Engine;
using GpuMux.Engine.Device;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Bench.Execution;

/// <summary>
/// How soon the engine learns that a step ended, in the engine's process: from the step's end on
/// the device to its completion handed to the session's sink, p50 and p99, on an idle device and
/// beside a tenant that keeps it busy; and what the engine thread costs meanwhile: its CPU time
/// (from /proc/self/task/TID/stat) and its wake-ups, idle and busy.
/// </summary>
internal static class WakeCommand
{
    private const int Steps = 2000;
    private const ulong StepMicroseconds = 300;

    public static int Run(string[] args)
    {
        var output = args is ["--output", var directory] ? directory : "bench/results";
        var environment = RunEnvironment.Capture();
        var backend = GpuBackends.CreateSim(new GpuBackendOptions { Sim = new SimDeviceOptions() });
        var engine = GpuEngine.StartAsync(backend, new EngineOptions()).GetAwaiter().GetResult();
        var rows = new List<string[]>();
        try
        {
            var thread = EngineThreadId();
            var (idleCpu, idleWakeups) = Idle(engine, thread, TimeSpan.FromSeconds(2));
            rows.Add(["idle 2 s", "-", "-", Ms(idleCpu), idleWakeups.ToString(CultureInfo.InvariantCulture)]);
            foreach (var loaded in new[] { false, true })
            {
                var (latencies, cpu, wakeups, wall) = Measure(engine, thread, loaded).GetAwaiter().GetResult();
                var stats = SampleStatistics.Of(latencies);
                rows.Add([
                    loaded ? "under load" : "idle device",
                    Us(stats.Median),
                    Us(stats.P99),
                    $"{Ms(cpu)} of {Ms(wall)}",
                    wakeups.ToString(CultureInfo.InvariantCulture)]);
            }
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        using var file = ResultsFile.Create(output, "wake", environment.StartedUtc, GpuBackendKind.Sim, "Completion wake-up: step end to completion delivered in-process");
        file.Section(null, w => TextTable.Write(w, [.. environment.Fields()], rightAligned: []));
        file.Section(
            $"{Steps} steps of {StepMicroseconds} µs, one at a time (goal: p99 well under 50 µs here, since the socket adds its own; no CPU while idle)",
            w => TextTable.Write(w, [["case", "end to delivered p50 µs", "p99 µs", "engine thread CPU ms", "wake-ups"], .. rows], rightAligned: [1, 2, 3, 4]));
        Console.WriteLine($"wrote {file.Path}");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Join("  ", row));
        }
        return 0;
    }

    private static (double CpuMs, long Wakeups) Idle(GpuEngine engine, int thread, TimeSpan span)
    {
        var (cpu, wakeups) = (ThreadCpuMs(thread), engine.EngineWakeups);
        Thread.Sleep(span);
        return (ThreadCpuMs(thread) - cpu, engine.EngineWakeups - wakeups);
    }

    private static async Task<(List<double> LatenciesUs, double CpuMs, long Wakeups, double WallMs)> Measure(GpuEngine engine, int thread, bool loaded)
    {
        var sink = new TimedSink();
        await using var session = engine.OpenSession(new SessionIdentity(1000, 1000, Environment.ProcessId, "bench-wake"), sink);
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, CancellationToken.None);
        var loadSink = new TimedSink();
        await using var load = engine.OpenSession(new SessionIdentity(2000, 2000, Environment.ProcessId, "bench-load"), loadSink);
        var loadSpin = await load.GetFunctionAsync(0, KernelNames.Spin, CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var loader = loaded ? Task.Run(() => Saturate(load, loadSpin, loadSink, stop.Token)) : Task.CompletedTask;

        var latencies = new List<double>(Steps);
        var (cpu, wakeups, started) = (ThreadCpuMs(thread), engine.EngineWakeups, MonotonicClock.NowNanoseconds());
        for (var i = 0u; i < Steps; i++)
        {
            Submit(session, spin, i, StepMicroseconds);
            var (completion, deliveredNs) = await sink.Completions.Reader.ReadAsync();
            latencies.Add((deliveredNs - completion.EndedAtNs) / 1e3);
        }
        var result = (latencies, ThreadCpuMs(thread) - cpu, engine.EngineWakeups - wakeups, (MonotonicClock.NowNanoseconds() - started) / 1e6);
        await stop.CancelAsync();
        await loader;
        return result;
    }

    /// <summary>Keeps two long steps of another tenant on the device at all times.</summary>
    private static async Task Saturate(EngineSession session, uint spin, TimedSink sink, CancellationToken stop)
    {
        Submit(session, spin, 0, 5000);
        Submit(session, spin, 1, 5000);
        var outstanding = 2;
        for (var i = 2u; outstanding > 0; i++)
        {
            await sink.Completions.Reader.ReadAsync(CancellationToken.None);
            outstanding--;
            if (!stop.IsCancellationRequested)
            {
                Submit(session, spin, i, 5000);
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

    private static int EngineThreadId()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == "gpumux-engine0")
            {
                return int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException("no engine thread named gpumux-engine0");
    }

    /// <summary>User and system time of one thread: fields 14 and 15 of its stat line, in clock ticks (100 a second on Linux).</summary>
    private static double ThreadCpuMs(int tid)
    {
        var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields after the name start at the third, the state.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }

    private static string Us(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    private static string Ms(double value) => value.ToString("F0", CultureInfo.InvariantCulture);

    private sealed class TimedSink : IStepCompletionSink
    {
        public Channel<(StepCompletion Completion, long DeliveredNs)> Completions { get; } = Channel.CreateUnbounded<(StepCompletion, long)>();

        public void OnStepCompleted(in StepCompletion completion) =>
            Completions.Writer.TryWrite((completion, MonotonicClock.NowNanoseconds()));
    }
}
