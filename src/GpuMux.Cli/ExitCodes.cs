namespace GpuMux.Cli;

internal static class ExitCodes
{
    public const int Ok = 0;

    public const int CheckFailed = 1;

    public const int BackendUnavailable = 2;

    /// <summary>No daemon answers at the socket: none there, connection refused, or no permission.</summary>
    public const int DaemonUnavailable = 3;

    /// <summary>The daemon refused a request or failed it (an error frame, a lost connection).</summary>
    public const int DaemonError = 4;

    // EX_USAGE from sysexits.h.
    public const int Usage = 64;

    /// <summary>A model directory's file is malformed or of a kind not supported (EX_DATAERR from sysexits.h).</summary>
    public const int BadModelFile = 65;
}
