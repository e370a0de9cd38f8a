using System.Reflection;
using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Device;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// The line an operator looks for first in the journal: which gpumuxd started, as which process,
/// from which configuration file, on which backend and device. Logged once everything has started.
/// </summary>
internal sealed class StartLine(
    EngineService engineService, DaemonConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<StartLine> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var engine = engineService.Engine;
            StartLineLog.Started(
                logger, Version, Environment.ProcessId, ConfigurationFileDescription(configuration), engine.BackendKind.ToString(), engine.Device.Name);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static string Version { get; } =
        typeof(StartLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    internal static string ConfigurationFileDescription(DaemonConfiguration configuration) =>
        configuration.AtStart.Exists ? configuration.File.Path : $"{configuration.File.Path} (absent: defaults apply)";
}

internal static partial class StartLineLog
{
    [LoggerMessage(EventId = 550, Level = LogLevel.Information, Message = "gpumuxd {Version} started as pid {Pid}: configuration {ConfigurationFile}, backend {Backend}, device {Device}")]
    public static partial void Started(ILogger logger, string version, int pid, string configurationFile, string backend, string device);
}
