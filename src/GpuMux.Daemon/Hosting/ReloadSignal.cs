using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// SIGHUP reloads the configuration, as daemons do (systemd's <c>ExecReload=kill -HUP $MAINPID</c>,
/// so <c>systemctl reload gpumuxd</c>); without this the signal would end the process. Whoever
/// watches the configuration's reload token applies what changed. The service manager is told
/// when the reload begins and ends, as <c>Type=notify-reload</c> expects.
/// </summary>
internal sealed class ReloadSignal(IConfiguration configuration, ServiceManagerNotifier notifier, ILogger<ReloadSignal> logger) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration is IConfigurationRoot root)
        {
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                ReloadSignalLog.Reloading(logger);
                using (notifier.Reloading())
                {
                    root.Reload();
                }
            });
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _registration = null;
    }
}

internal static partial class ReloadSignalLog
{
    [LoggerMessage(EventId = 510, Level = LogLevel.Information, Message = "SIGHUP: reading the configuration again")]
    public static partial void Reloading(ILogger logger);
}
