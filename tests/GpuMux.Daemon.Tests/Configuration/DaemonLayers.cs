using GpuMux.Daemon.CommandLine;
using GpuMux.Daemon.Configuration;
using Microsoft.Extensions.Configuration;

namespace GpuMux.Daemon.Tests.Configuration;

/// <summary>gpumuxd's configuration as its command line and environment would make it, without a host.</summary>
internal static class DaemonLayers
{
    public static DaemonConfiguration Load(string[] args, string? fileFromEnvironment, string defaultFile) =>
        DaemonConfiguration.Load(DaemonCommand.ParseRun(args), fileFromEnvironment, defaultFile);

    public static ConfigurationManager Layered(string[] args, string? fileFromEnvironment, string defaultFile)
    {
        var configuration = new ConfigurationManager();
        Load(args, fileFromEnvironment, defaultFile).AddTo(configuration);
        return configuration;
    }

    /// <summary>What a start with <paramref name="args"/> would find wrong.</summary>
    public static ConfigurationProblems Check(string[] args, string defaultFile)
    {
        var configuration = Load(args, null, defaultFile);
        return configuration.Check(configuration.AtStart.Settings);
    }
}
