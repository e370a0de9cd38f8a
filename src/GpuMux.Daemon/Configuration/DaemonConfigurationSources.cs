using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The layers of gpumuxd's configuration, later ones winning: the defaults in the options classes,
/// the JSON file (read again when it changes), <c>GPUMUXD_</c> environment variables, then the
/// command line. They go on top of
/// whatever the host added (appsettings.json, unprefixed variables, its own copy of the arguments
/// without the switches below), so they win over all of it.
/// </summary>
internal static class DaemonConfigurationSources
{
    public const string EnvironmentPrefix = "GPUMUXD_";

    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.OrdinalIgnoreCase)
    {
        ["--socket"] = "Socket:Path",
        ["--backend"] = "Device:Backend",
        ["--device"] = "Device:Ordinal",
        ["--sim-memory-mib"] = "Sim:MemoryMiB",
    };

    public static IConfigurationBuilder AddGpumuxdSources(
        this IConfigurationBuilder configuration, string[] args, string? fileFromEnvironment, string defaultFile)
    {
        var commandLine = new CommandLineConfigurationSource { Args = args, SwitchMappings = SwitchMappings };
        var fromCommandLine = new ConfigurationBuilder().Add(commandLine).Build()[ConfigurationFile.CommandLineKey];
        var file = ConfigurationFile.Locate(fromCommandLine, fileFromEnvironment, defaultFile);
        file.ThrowIfRequiredAndMissing();

        return configuration
            .Add<DaemonFileSource>(source => WatchedFile(source, file))
            .AddEnvironmentVariables(EnvironmentPrefix)
            .Add(commandLine);
    }

    /// <summary>
    /// The JSON file, reloaded when it changes. The change is found by polling the one file: the
    /// default watcher is an inotify watch on its directory and, recursively, every directory
    /// below it, which for <c>--config ~/gpumuxd.json</c> is the whole home directory.
    /// </summary>
    private static void WatchedFile(JsonConfigurationSource source, ConfigurationFile file)
    {
        source.Path = file.Path;
        source.Optional = !file.IsRequired;
        source.ReloadOnChange = true;
        source.ResolveFileProvider();
        if (source.FileProvider is PhysicalFileProvider files)
        {
            files.UsePollingFileWatcher = true;
            files.UseActivePolling = true;
        }
    }
}
