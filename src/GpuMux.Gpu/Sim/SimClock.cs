using System.Diagnostics;

namespace GpuMux.Gpu.Sim;

/// <summary>Waits out modelled time on the wall clock, sleeping for the bulk and yielding for the last stretch.</summary>
internal static class SimClock
{
    private static readonly long TicksPerMillisecond = Stopwatch.Frequency / 1000;

    public static long Now => Stopwatch.GetTimestamp();

    public static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    public static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static void WaitUntil(long deadline)
    {
        while (true)
        {
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }
            // Sleep granularity on Linux is about a millisecond; leave that much to yielding.
            if (remaining > 2 * TicksPerMillisecond)
            {
                Thread.Sleep((int)(remaining / TicksPerMillisecond) - 1);
            }
            else
            {
                Thread.Yield();
            }
        }
    }
}
