using Microsoft.Extensions.Configuration;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// gpumuxd's own file among the configuration's sources. Its provider never reads the file
/// itself: it holds the settings of the last version that was read and found valid
/// (<see cref="ConfigurationReload"/>), so that nothing, a configuration-wide reload included,
/// can put a broken or vanished file's settings in force.
/// </summary>
internal sealed class DaemonFileSource(IReadOnlyDictionary<string, string?> settings) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new DaemonFileProvider(settings);
}

internal sealed class DaemonFileProvider : ConfigurationProvider
{
    public DaemonFileProvider(IReadOnlyDictionary<string, string?> settings) => Data = Copy(settings);

    /// <summary>The provider of the daemon's file in <paramref name="configuration"/>; null when it has none.</summary>
    public static DaemonFileProvider? In(IConfiguration configuration) =>
        (configuration as IConfigurationRoot)?.Providers.OfType<DaemonFileProvider>().FirstOrDefault();

    /// <summary>Puts a new version's settings in force; its reload token fires once they are.</summary>
    public void Replace(IReadOnlyDictionary<string, string?> settings)
    {
        Data = Copy(settings);
        OnReload();
    }

    private static Dictionary<string, string?> Copy(IReadOnlyDictionary<string, string?> settings) =>
        new(settings, StringComparer.OrdinalIgnoreCase);
}
