namespace GpuMux.Daemon.CommandLine;

/// <summary>What gpumuxd's command line asks of a run.</summary>
/// <param name="Settings">Settings as configuration keys and values (<c>Limits:MaxSessions</c>), the switches that stand for one included, later ones winning.</param>
/// <param name="ConfigFile">The file <c>--config</c> or <c>--check-config FILE</c> names; null for the usual one.</param>
/// <param name="CheckOnly"><c>--check-config</c>: check the configuration and exit instead of running.</param>
/// <param name="Verbose"><c>--verbose</c>: a failure to start is shown with its stack trace.</param>
internal sealed record DaemonArguments(
    IReadOnlyList<KeyValuePair<string, string?>> Settings,
    string? ConfigFile,
    bool CheckOnly = false,
    bool Verbose = false);
