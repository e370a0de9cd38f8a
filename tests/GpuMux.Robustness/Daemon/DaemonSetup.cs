namespace GpuMux.Robustness.Daemon;

/// <summary>
/// How the suite runs gpumuxd: the built (or published) <c>gpumuxd.dll</c>, started with
/// <c>dotnet</c> as a process of its own, so that a death is seen, not suffered; on the Sim backend,
/// on a socket in <see cref="Directory"/>, reading its configuration from <see cref="ConfigurationFile"/>.
/// </summary>
internal sealed record DaemonSetup(string DaemonDll, string Directory, IReadOnlyList<string> ExtraArguments)
{
    public const int SimMemoryMiB = 2048;

    /// <summary>gpumuxd.dll beside the running assembly, where a project that references the daemon has it.</summary>
    public static string DefaultDaemonDll => Path.Combine(AppContext.BaseDirectory, "gpumuxd.dll");

    public string SocketPath => Path.Combine(Directory, "d.sock");

    public string ConfigurationFile => Path.Combine(Directory, "gpumuxd.json");

    public IReadOnlyList<string> Arguments =>
    [
        DaemonDll,
        "--config", ConfigurationFile,
        "--socket", SocketPath,
        "--backend", "sim",
        "--sim-memory-mib", SimMemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--Socket:Group=",
        $"--Device:ModuleCacheDirectory={Path.Combine(Directory, "modules")}",
        // Room for the many-clients scenario and an observer beside it.
        "--Limits:MaxSessions=1024",
        // Warnings are what a misbehaving client provokes; their volume is measured, not hidden.
        "--Logging:LogLevel:Default=Warning",
        .. ExtraArguments,
    ];

    /// <summary>The dotnet host: the one that started this process where it is known, else dotnet from PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";
}
