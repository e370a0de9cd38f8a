using System.Diagnostics;

namespace GpuMux.Client;

/// <summary>
/// Nanoseconds of CLOCK_MONOTONIC, the daemon's clock for step times. On Linux, Stopwatch reads
/// that clock at a frequency of 1 GHz; the conversion is for frequencies that are not.
/// </summary>
internal static class MonotonicClock
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public static long Nanoseconds(long stopwatchTimestamp) =>
        Stopwatch.Frequency == 1_000_000_000 ? stopwatchTimestamp : (long)(stopwatchTimestamp * NanosecondsPerTick);

    public static long Now => Nanoseconds(Stopwatch.GetTimestamp());
}
