using System.Diagnostics;

namespace GpuMux.Gpu.Sim;

/// <summary>Waits out modelled time on the wall clock, sleeping for the bulk and yielding for the last stretch.</summary>
internal static class SimClock
{
    /// <summary>
    /// The longest modelled time, about 146 years: a kernel asked to run longer runs this long,
    /// which no wait outlives, and a start time plus it still fits a <see cref="long"/>.
    /// </summary>
    public const long Forever = long.MaxValue / 2;

    private static readonly long TicksPerMillisecond = Stopwatch.Frequency / 1000;

    public static long Now => Stopwatch.GetTimestamp();

    public static long Ticks(TimeSpan span) => Ticks(span.TotalSeconds);

    public static long Ticks(double seconds)
    {
        var ticks = seconds * Stopwatch.Frequency;
        return ticks >= Forever ? Forever : (long)ticks;
    }

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
                Thread.Sleep((int)Math.Min((remaining / TicksPerMillisecond) - 1, int.MaxValue - 1));
            }
            else
            {
                Thread.Yield();
            }
        }
    }
}
