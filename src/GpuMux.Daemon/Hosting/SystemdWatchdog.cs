using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// Under systemd, pings the watchdog (<c>WATCHDOG=1</c>) at half of <c>WatchdogSec=</c> and
/// publishes <see cref="DaemonStatusLine"/> as <c>STATUS=</c>; elsewhere does nothing.
/// <c>UseSystemd()</c> sends READY and STOPPING but neither of these.
/// </summary>
internal sealed class SystemdWatchdog(DaemonStatusLine status, ISystemdNotifier? notifier = null) : BackgroundService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");

    /// <summary>
    /// Half the timeout systemd gave us, or null when it gave none or gave it to another process
    /// (<c>WATCHDOG_PID</c> names the process it watches).
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
        // AddSystemd() registers a notifier only when the process runs under systemd.
        if (notifier is not { IsEnabled: true })
        {
            return;
        }
        var interval = PingInterval(
            Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
            Environment.GetEnvironmentVariable("WATCHDOG_PID"),
            Environment.ProcessId);
        try
        {
            await Task.WhenAll(
                interval is { } every ? PingAsync(notifier, every, stoppingToken) : Task.CompletedTask,
                PublishStatusAsync(notifier, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static async Task PingAsync(ISystemdNotifier notifier, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            notifier.Notify(Ping);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    private async Task PublishStatusAsync(ISystemdNotifier notifier, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = status.Changed;
            notifier.Notify(new ServiceState("STATUS=" + status.Current));
            await changed.WaitAsync(cancellationToken);
        }
    }
}
