using GpuMux.Engine.Device;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>Deadlines on the engine's clock, <c>CLOCK_MONOTONIC</c> in nanoseconds.</summary>
internal static class Deadline
{
    public static long FromNow(TimeSpan span) => MonotonicClock.NowNanoseconds() + Nanoseconds(span);

    public static long Nanoseconds(TimeSpan span) => span.Ticks * 100;
}
