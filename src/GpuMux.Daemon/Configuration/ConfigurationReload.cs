using GpuMux.Daemon.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// Reads the daemon's file again when it changes (found by polling it) or when asked (SIGHUP), and
/// puts the new version in force only whole and valid: one that cannot be parsed, or that the
/// daemon could not start with, is logged problem by problem, and the configuration in force
/// stays. So does the configuration of a file that has vanished. What then applies the new
/// version is whoever watches the file's reload token (<see cref="TenantLimitsReload"/>).
/// </summary>
internal sealed class ConfigurationReload(
    DaemonConfiguration daemonConfiguration, IConfiguration configuration, ServiceManagerNotifier notifier, ILogger<ConfigurationReload> logger)
    : IHostedService, IDisposable
{
    private readonly Lock _reloading = new();
    private PhysicalFileProvider? _directory;
    private IDisposable? _poll;

    private ConfigurationFile File => daemonConfiguration.File;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var warning in daemonConfiguration.Check(daemonConfiguration.AtStart.Settings).Warnings)
        {
            ConfigurationReloadLog.UnknownKey(logger, warning);
        }

        // A poll of the one file: the default watcher is an inotify watch on its directory and,
        // recursively, every directory below it, which for --config ~/gpumuxd.json is the whole
        // home directory.
        if (NearestDirectory(File.Path) is { } directory)
        {
            _directory = new PhysicalFileProvider(directory) { UsePollingFileWatcher = true, UseActivePolling = true };
            var relative = Path.GetRelativePath(directory, File.Path);
            _poll = ChangeToken.OnChange(() => _directory.Watch(relative), Reload);
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
        _poll?.Dispose();
        _poll = null;
        _directory?.Dispose();
        _directory = null;
    }

    /// <summary>
    /// Reads the file and puts it in force if it is valid; never throws for what is in the file.
    /// The service manager is told when the reload begins and ends, whatever set it off, as
    /// <c>Type=notify-reload</c> expects.
    /// </summary>
    public void Reload()
    {
        lock (_reloading)
        {
            using var reloading = notifier.Reloading();
            var contents = File.Read();
            if (contents.Problem is { } problem)
            {
                ConfigurationReloadLog.Unusable(logger, problem);
                return;
            }
            if (!contents.Exists)
            {
                ConfigurationReloadLog.Vanished(logger, File.Path);
                return;
            }

            var problems = daemonConfiguration.Check(contents.Settings);
            foreach (var warning in problems.Warnings)
            {
                ConfigurationReloadLog.UnknownKey(logger, warning);
            }
            foreach (var error in problems.Errors)
            {
                ConfigurationReloadLog.Invalid(logger, File.Path, error);
            }
            if (problems.Errors.Count > 0)
            {
                return;
            }

            var file = DaemonFileProvider.In(configuration) ?? throw new InvalidOperationException("the configuration has no source for the daemon's file");
            file.Replace(contents.Settings);
            ConfigurationReloadLog.Reloaded(logger, File.Path);
        }
    }

    /// <summary>The file's directory, or the nearest one above it that exists, so that a file in a directory made later is found too.</summary>
    private static string? NearestDirectory(string path)
    {
        var directory = Path.GetDirectoryName(path);
        while (directory is not null && !Directory.Exists(directory))
        {
            directory = Path.GetDirectoryName(directory);
        }
        return directory;
    }
}

internal static partial class ConfigurationReloadLog
{
    [LoggerMessage(EventId = 511, Level = LogLevel.Information, Message = "Configuration reloaded from {Path}")]
    public static partial void Reloaded(ILogger logger, string path);

    [LoggerMessage(EventId = 512, Level = LogLevel.Error, Message = "Configuration not reloaded, the one in force stays: {Problem}")]
    public static partial void Unusable(ILogger logger, string problem);

    [LoggerMessage(EventId = 513, Level = LogLevel.Error, Message = "Configuration not reloaded from {Path}, the one in force stays: {Problem}")]
    public static partial void Invalid(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 514, Level = LogLevel.Warning, Message = "Configuration not reloaded: {Path} does not exist (any more); the configuration last read from it stays in force until it is back or the daemon restarts")]
    public static partial void Vanished(ILogger logger, string path);

    [LoggerMessage(EventId = 515, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void UnknownKey(ILogger logger, string warning);
}
