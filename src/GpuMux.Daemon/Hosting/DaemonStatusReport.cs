using System.Globalization;
using GpuMux.Daemon.Device;
using GpuMux.Engine;
using Microsoft.Extensions.Hosting;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// Keeps the figures of <see cref="DaemonStatusLine"/> current while the daemon serves: sessions,
/// steps finished per second and the device pool in use, read from the engine every few seconds.
/// Only a service manager reads the line, so without one nothing is read.
/// </summary>
internal sealed class DaemonStatusReport(
    EngineService engineService,
    DaemonStatusLine status,
    ServiceManagerNotifier notifier,
    IHostApplicationLifetime lifetime,
    TimeProvider time) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled)
        {
            return;
        }
        try
        {
            await lifetime.WaitForStartedAsync(stoppingToken);
            var rate = new StepRate();
            var startedAt = time.GetTimestamp();
            using var timer = new PeriodicTimer(Interval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                EngineStatus engine;
                try
                {
                    engine = await engineService.Engine.GetStatusAsync(stoppingToken);
                }
                catch (EngineException)
                {
                    // The engine has stopped or lost its device; whatever set the state says which.
                    status.SetFigures(null);
                    return;
                }
                var now = time.GetTimestamp();
                status.SetFigures(Figures(engine, rate.PerSecond(engine.Sessions, time.GetElapsedTime(startedAt, now))));
                startedAt = now;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    internal static string Figures(EngineStatus engine, double stepsPerSecond) => string.Create(
        CultureInfo.InvariantCulture,
        $"{engine.Sessions.Count} session{(engine.Sessions.Count == 1 ? "" : "s")}, {stepsPerSecond:0.#} steps/s, "
        + $"device pool {Gibibytes(engine.DevicePoolBytes - engine.DevicePoolFreeBytes)} of {Gibibytes(engine.DevicePoolBytes)} GiB in use, "
        + $"pinned pool {Gibibytes(engine.PinnedPoolBytes - engine.PinnedPoolFreeBytes)} of {Gibibytes(engine.PinnedPoolBytes)} GiB");

    private static string Gibibytes(ulong bytes) => (bytes / (double)(1UL << 30)).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>
    /// Steps finished (completed or failed) per second by the sessions open now: the engine counts
    /// per session, so the steps of a session that closed since the last look are not counted.
    /// </summary>
    internal sealed class StepRate
    {
        private Dictionary<long, long> _finished = [];

        public double PerSecond(IReadOnlyList<SessionStatus> sessions, TimeSpan elapsed)
        {
            var finished = new Dictionary<long, long>(sessions.Count);
            long steps = 0;
            foreach (var session in sessions)
            {
                var total = session.StepsCompleted + session.StepsFailed;
                finished[session.Id] = total;
                steps += total - _finished.GetValueOrDefault(session.Id);
            }
            _finished = finished;
            return elapsed > TimeSpan.Zero ? steps / elapsed.TotalSeconds : 0;
        }
    }
}
