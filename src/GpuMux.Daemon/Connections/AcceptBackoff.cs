using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Paces the accept loop while accepting fails. At the descriptor limit (EMFILE, ENFILE) or short
/// of kernel memory (ENOBUFS, ENOMEM) the listener stays readable and every accept fails at once,
/// so a loop that retried straight away would spin and log each failure. Here the pauses double
/// from <see cref="FirstPause"/> to <see cref="LongestPause"/>, and a run of failures is logged
/// twice: when it starts, and when an accept succeeds again.
/// </summary>
internal sealed class AcceptBackoff(TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(1);

    private TimeSpan _pause = FirstPause;
    private int _failures;
    private long _firstFailedAt;

    /// <summary>
    /// Whether <paramref name="failure"/> concerns only the connection being accepted (it went away
    /// first), so the next accept can follow at once.
    /// </summary>
    public static bool IsConnectionsOwn(SocketException failure) =>
        failure.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset;

    /// <summary>Counts a failed accept and waits before the next.</summary>
    public Task PauseAsync(SocketException failure, CancellationToken cancellationToken)
    {
        if (_failures++ == 0)
        {
            _firstFailedAt = time.GetTimestamp();
            AcceptBackoffLog.Failing(logger, failure.Message, (long)LongestPause.TotalMilliseconds);
        }

        var pause = _pause;
        _pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
        return Task.Delay(pause, time, cancellationToken);
    }

    /// <summary>An accept succeeded: ends a run of failures, if one was on.</summary>
    public void Succeeded()
    {
        if (_failures == 0)
        {
            return;
        }

        AcceptBackoffLog.Recovered(logger, _failures, (long)time.GetElapsedTime(_firstFailedAt).TotalMilliseconds);
        _failures = 0;
        _pause = FirstPause;
    }
}

internal static partial class AcceptBackoffLog
{
    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Accepting connections fails: {Reason}. Clients wait in the socket's backlog; the daemon retries with pauses of up to {LongestPauseMs} ms and logs once more when it accepts again")]
    public static partial void Failing(ILogger logger, string reason, long longestPauseMs);

    [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "Accepting connections again, after {Failures} failed accepts over {ElapsedMs} ms")]
    public static partial void Recovered(ILogger logger, int failures, long elapsedMs);
}
