using System.Runtime.InteropServices;
using GpuMux.Daemon.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// SIGHUP reloads the configuration, as daemons do (systemd's <c>ExecReload=kill -HUP $MAINPID</c>,
/// so <c>systemctl reload gpumuxd</c>); without this the signal would end the process. The file is
/// read and checked whole before anything of it is put in force (<see cref="ConfigurationReload"/>).
/// </summary>
internal sealed class ReloadSignal(ConfigurationReload reload, ILogger<ReloadSignal> logger) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            ReloadSignalLog.Reloading(logger);
            reload.Reload();
        });

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
