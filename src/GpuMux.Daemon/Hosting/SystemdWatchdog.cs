using System.Globalization;
using GpuMux.Daemon.Device;
using GpuMux.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// Pings the service manager's watchdog (<c>WATCHDOG=1</c>) at half of <c>WatchdogSec=</c>, each
/// time only after the engine thread has answered a heartbeat: the thread that owns the GPU is
/// the part that can hang (in the driver, say) while timers and sockets still run, and a daemon
/// whose engine does not answer should be restarted, not kept alive by a timer. Pings begin once
/// the daemon has started, when systemd arms the watchdog.
/// </summary>
/// <param name="interval">How often to ping; null when no watchdog is asked for.</param>
/// <param name="heartbeat">A round trip through the engine thread.</param>
internal sealed class SystemdWatchdog(
    ServiceManagerNotifier notifier,
    TimeSpan? interval,
    Func<CancellationToken, Task> heartbeat,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<SystemdWatchdog> logger) : BackgroundService
{
    public SystemdWatchdog(
        ServiceManagerNotifier notifier, EngineService engine, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<SystemdWatchdog> logger)
        : this(
            notifier,
            PingInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId),
            cancellationToken => engine.Engine.PingAsync(cancellationToken),
            lifetime,
            time,
            logger)
    {
    }

    /// <summary>
    /// Half the timeout the service manager gave, or null when it gave none or gave it to another
    /// process (<c>WATCHDOG_PID</c> names the process it watches).
    /// </summary>
    internal static TimeSpan? PingInterval(string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (!ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec == 0)
        {
            return null;
        }
        if (!string.IsNullOrEmpty(watchdogPid)
            && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid != processId))
        {
            return null;
        }
        // 1 ms is PeriodicTimer's shortest period.
        return TimeSpan.FromMicroseconds(Math.Max(usec / 2, 1000));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled || interval is not { } every)
        {
            return;
        }
        try
        {
            await lifetime.WaitForStartedAsync(stoppingToken);
            using var timer = new PeriodicTimer(every, time);
            do
            {
                if (!await HeartbeatAsync(every, stoppingToken))
                {
                    return;
                }
                notifier.Notify("WATCHDOG=1");
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether the engine thread answered; a late answer is waited for however long it takes, and said so.</summary>
    private async Task<bool> HeartbeatAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        var askedAt = time.GetTimestamp();
        var answered = heartbeat(stoppingToken);
        try
        {
            await answered.WaitAsync(interval, time, stoppingToken);
            return true;
        }
        catch (TimeoutException)
        {
            SystemdWatchdogLog.EngineSilent(logger, (long)time.GetElapsedTime(askedAt).TotalMilliseconds);
            await answered.WaitAsync(stoppingToken);
            SystemdWatchdogLog.EngineAnswers(logger, (long)time.GetElapsedTime(askedAt).TotalMilliseconds);
            return true;
        }
        catch (EngineException e)
        {
            // The engine has stopped; the daemon is on its way out, and says why elsewhere.
            SystemdWatchdogLog.EngineStopped(logger, e.Message);
            return false;
        }
    }
}

internal static partial class SystemdWatchdogLog
{
    [LoggerMessage(EventId = 560, Level = LogLevel.Error, Message = "The engine thread has not answered a heartbeat for {ElapsedMs} ms: watchdog pings are withheld, and the service manager will end the daemon when WatchdogSec= runs out")]
    public static partial void EngineSilent(ILogger logger, long elapsedMs);

    [LoggerMessage(EventId = 561, Level = LogLevel.Warning, Message = "The engine thread answers again, after {ElapsedMs} ms: watchdog pings resume")]
    public static partial void EngineAnswers(ILogger logger, long elapsedMs);

    [LoggerMessage(EventId = 562, Level = LogLevel.Information, Message = "Watchdog pings end: the engine has stopped ({Reason})")]
    public static partial void EngineStopped(ILogger logger, string reason);
}
