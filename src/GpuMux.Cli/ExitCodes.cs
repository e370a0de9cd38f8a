namespace GpuMux.Cli;

internal static class ExitCodes
{
    public const int Ok = 0;

    public const int CheckFailed = 1;

    public const int BackendUnavailable = 2;

    // EX_USAGE from sysexits.h.
    public const int Usage = 64;
}
