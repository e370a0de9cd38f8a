using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// gpumuxd's own JSON file among the configuration's sources, so that its provider can be found
/// again: its reload token fires once the file's new contents are loaded.
/// </summary>
internal sealed class DaemonFileSource : JsonConfigurationSource
{
    /// <summary>The provider of the daemon's file in <paramref name="configuration"/>; null when it has none.</summary>
    public static IConfigurationProvider? ProviderIn(IConfiguration configuration) =>
        (configuration as IConfigurationRoot)?.Providers.OfType<JsonConfigurationProvider>().FirstOrDefault(p => p.Source is DaemonFileSource);
}
