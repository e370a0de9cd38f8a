using System.Globalization;
using GpuMux.Engine;

namespace GpuMux.Bench.Execution;

/// <summary>
/// The CPU time and wake-ups of an engine in this process, read around a stretch of a benchmark:
/// its thread's user and system time from /proc/self/task/TID/stat, and the engine's own count
/// of the times its thread woke.
/// </summary>
internal sealed class EngineThreadClock(GpuEngine engine)
{
    private readonly int _thread = EngineThreadId();

    public EngineThreadReading Read() => new(ThreadCpuMs(_thread), engine.EngineWakeups, MonotonicClockMs());

    private static double MonotonicClockMs() => GpuMux.Engine.Device.MonotonicClock.NowNanoseconds() / 1e6;

    private static int EngineThreadId()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == "gpumux-engine0")
            {
                return int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException("no engine thread named gpumux-engine0");
    }

    /// <summary>User and system time of one thread: fields 14 and 15 of its stat line, in clock ticks (100 a second on Linux).</summary>
    private static double ThreadCpuMs(int tid)
    {
        var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields after the name start at the third, the state.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }
}

/// <summary>One reading of <see cref="EngineThreadClock"/>; the difference of two is what the stretch between them cost.</summary>
internal readonly record struct EngineThreadReading(double CpuMs, long Wakeups, double WallMs)
{
    public static EngineThreadReading operator -(EngineThreadReading after, EngineThreadReading before) =>
        new(after.CpuMs - before.CpuMs, after.Wakeups - before.Wakeups, after.WallMs - before.WallMs);
}
