namespace GpuMux.Daemon.Hosting;

/// <summary>The daemon cannot start, for a reason its message says in one line, and exits with <see cref="ExitCode"/>.</summary>
internal sealed class DaemonStartException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
