namespace GpuMux.Daemon.Configuration;

/// <summary>
/// The JSON file to read: the one named by <c>--config</c>, else by <c>GPUMUXD_CONFIG</c>, else
/// <see cref="DefaultPath"/>. The default may be absent; a file someone named must exist.
/// </summary>
internal sealed record ConfigurationFile(string Path, string? NamedBy)
{
    public const string DefaultPath = "/etc/gpumuxd/gpumuxd.json";
    public const string EnvironmentVariable = "GPUMUXD_CONFIG";
    public const string CommandLineKey = "config";

    public bool IsRequired => NamedBy is not null;

    public static ConfigurationFile Locate(string? fromCommandLine, string? fromEnvironment, string defaultPath)
    {
        if (!string.IsNullOrEmpty(fromCommandLine))
        {
            return new ConfigurationFile(System.IO.Path.GetFullPath(fromCommandLine), "--" + CommandLineKey);
        }
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return new ConfigurationFile(System.IO.Path.GetFullPath(fromEnvironment), EnvironmentVariable);
        }
        return new ConfigurationFile(defaultPath, null);
    }

    public void ThrowIfRequiredAndMissing()
    {
        if (IsRequired && !File.Exists(Path))
        {
            throw new FileNotFoundException($"The configuration file '{Path}' named by {NamedBy} does not exist.", Path);
        }
    }
}
