using GpuMux.Daemon.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Device;

/// <summary>
/// Stops the daemon when its engine has lost the device, with <see cref="DaemonExitCode.DeviceLost"/>
/// for the service manager to start it again: after such a fault the driver promises nothing more
/// to this process. By then the engine has failed every step and later requests with
/// <c>DeviceLost</c>; stopping closes the connections after their completions are sent.
/// </summary>
internal sealed class DeviceLossWatch(
    EngineService engineService,
    DaemonExitCode exitCode,
    DaemonStatusLine statusLine,
    IHostApplicationLifetime lifetime,
    ILogger<DeviceLossWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string reason;
        try
        {
            reason = await engineService.Engine.DeviceLost.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        DeviceLossWatchLog.Exiting(logger, reason, DaemonExitCode.DeviceLost);
        statusLine.Set($"device lost, exiting with status {DaemonExitCode.DeviceLost} to be restarted: {reason}");
        exitCode.Value = DaemonExitCode.DeviceLost;
        lifetime.StopApplication();
    }
}

internal static partial class DeviceLossWatchLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Critical, Message = "The GPU is lost: after a fault it could not be set up again ({Reason}). Every client has been failed with DeviceLost and everything registered is gone; stopping, to exit with status {ExitCode} so that the service manager starts the daemon again")]
    public static partial void Exiting(ILogger logger, string reason, int exitCode);
}
