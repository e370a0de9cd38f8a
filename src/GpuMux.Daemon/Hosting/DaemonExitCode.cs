namespace GpuMux.Daemon.Hosting;

/// <summary>
/// The status gpumuxd's process exits with once its host has stopped: 0 unless something decided
/// otherwise. Kept apart from <see cref="Environment.ExitCode"/> so that a host embedded in
/// another process (gpumuxctl demo, the tests) leaves that process's status alone.
/// </summary>
internal sealed class DaemonExitCode
{
    /// <summary>
    /// The device was lost. EX_TEMPFAIL from sysexits.h, "a temporary failure ... the user is
    /// invited to retry": not 0, so systemd's <c>Restart=on-failure</c> starts the daemon again,
    /// and told apart from a crash or a failed start, which the runtime ends with SIGABRT (134).
    /// </summary>
    public const int DeviceLost = 75;

    public int Value { get; set; }
}
