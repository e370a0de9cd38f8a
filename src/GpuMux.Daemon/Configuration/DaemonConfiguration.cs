using GpuMux.Daemon.CommandLine;
using Microsoft.Extensions.Configuration;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The layers of gpumuxd's configuration, later ones winning: the defaults in the options classes,
/// the JSON file, <c>GPUMUXD_</c> environment variables, then the command line. They go on top of
/// whatever the host added, so they win over all of it. The file is read here, once, at start;
/// later versions come in through <see cref="ConfigurationReload"/>, checked whole first.
/// </summary>
internal sealed class DaemonConfiguration
{
    public const string EnvironmentPrefix = "GPUMUXD_";

    private readonly IReadOnlyList<KeyValuePair<string, string?>> _commandLine;

    private DaemonConfiguration(ConfigurationFile file, FileContents contents, IReadOnlyList<KeyValuePair<string, string?>> commandLine)
    {
        File = file;
        AtStart = contents;
        _commandLine = commandLine;
    }

    public ConfigurationFile File { get; }

    /// <summary>The file as it was read at start.</summary>
    public FileContents AtStart { get; }

    /// <exception cref="ConfigurationException">The file is named but absent, or cannot be read or parsed.</exception>
    public static DaemonConfiguration Load(DaemonArguments arguments, string? fileFromEnvironment, string defaultFile)
    {
        var file = ConfigurationFile.Locate(arguments.ConfigFile, fileFromEnvironment, defaultFile);
        var contents = file.Read();
        if (contents.Problem is { } problem)
        {
            throw new ConfigurationException([problem]);
        }
        if (!contents.Exists && file.IsRequired)
        {
            throw new ConfigurationException([$"The configuration file '{file.Path}' named by {file.NamedBy} does not exist."]);
        }
        return new DaemonConfiguration(file, contents, arguments.Settings);
    }

    /// <summary>The layers, the file's as read at start, for the daemon's configuration.</summary>
    public IConfigurationBuilder AddTo(IConfigurationBuilder configuration) => AddLayers(configuration, new DaemonFileSource(AtStart.Settings));

    /// <summary>Checks the configuration the daemon would have with <paramref name="fileSettings"/> as its file's settings.</summary>
    public ConfigurationProblems Check(IReadOnlyDictionary<string, string?> fileSettings) =>
        ConfigurationCheck.Check(AddLayers(new ConfigurationBuilder(), new DaemonFileSource(fileSettings)).Build());

    private IConfigurationBuilder AddLayers(IConfigurationBuilder configuration, IConfigurationSource file) => configuration
        .Add(file)
        .AddEnvironmentVariables(EnvironmentPrefix)
        .AddInMemoryCollection(_commandLine);
}
