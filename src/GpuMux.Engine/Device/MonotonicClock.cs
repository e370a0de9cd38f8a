using System.Diagnostics;

namespace GpuMux.Engine.Device;

/// <summary>
/// The daemon's clock for step times: <see cref="Stopwatch"/> ticks in nanoseconds, which on Linux is
/// CLOCK_MONOTONIC. Public for the daemon, which times what happens to a completion after the engine.
/// </summary>
public static class MonotonicClock
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    public static long NowNanoseconds() => ToNanoseconds(Stopwatch.GetTimestamp());

    public static long ToNanoseconds(long timestamp) =>
        Stopwatch.Frequency == NanosecondsPerSecond ? timestamp : (long)((Int128)timestamp * NanosecondsPerSecond / Stopwatch.Frequency);
}
