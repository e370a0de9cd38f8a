using Microsoft.Extensions.Hosting;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// Tells the service manager the daemon's life as <c>Type=notify</c> expects: <c>READY=1</c> once
/// every part has started (the socket accepts clients), <c>STOPPING=1</c> as it begins to stop,
/// and each new <see cref="DaemonStatusLine"/> as <c>STATUS=</c>. Does nothing when no one listens.
/// </summary>
internal sealed class ServiceManagerNotifications(
    ServiceManagerNotifier notifier, DaemonStatusLine status, IHostApplicationLifetime lifetime) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (notifier.IsEnabled)
        {
            lifetime.ApplicationStarted.Register(() => notifier.Notify("READY=1\nSTATUS=" + status.Current));
            lifetime.ApplicationStopping.Register(() => notifier.Notify("STOPPING=1"));
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled)
        {
            return;
        }
        try
        {
            while (true)
            {
                var changed = status.Changed;
                notifier.Notify("STATUS=" + status.Current);
                await changed.WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
