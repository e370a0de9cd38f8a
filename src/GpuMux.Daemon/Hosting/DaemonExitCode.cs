namespace GpuMux.Daemon.Hosting;

/// <summary>
/// The status gpumuxd's process exits with once its host has stopped: 0 unless something decided
/// otherwise. Kept apart from <see cref="Environment.ExitCode"/> so that a host embedded in
/// another process (gpumuxctl demo, the tests) leaves that process's status alone. The statuses
/// are sysexits.h's, which systemd and shells know.
/// </summary>
internal sealed class DaemonExitCode
{
    /// <summary>EX_USAGE: the command line is wrong (an option it does not know, a value missing).</summary>
    public const int Usage = 64;

    /// <summary>
    /// EX_UNAVAILABLE: the daemon could not start for another reason than its configuration or the
    /// system's limits: no GPU with <c>Device:Backend=cuda</c>, a socket it cannot bind.
    /// </summary>
    public const int Unavailable = 69;

    /// <summary>EX_OSERR: the system does not give the daemon what it needs to start, such as room under its descriptor limit.</summary>
    public const int OsError = 71;

    /// <summary>
    /// The device was lost. EX_TEMPFAIL, "a temporary failure ... the user is invited to retry":
    /// not 0, so systemd's <c>Restart=on-failure</c> starts the daemon again.
    /// </summary>
    public const int DeviceLost = 75;

    /// <summary>EX_CONFIG: the configuration cannot be used (a file that is not JSON, a value out of range).</summary>
    public const int Configuration = 78;

    public int Value { get; set; }
}
