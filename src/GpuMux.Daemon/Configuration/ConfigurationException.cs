namespace GpuMux.Daemon.Configuration;

/// <summary>The configuration cannot be used: each problem is one line naming the key, its value and what is accepted.</summary>
internal sealed class ConfigurationException(IReadOnlyList<string> problems) : Exception(string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
