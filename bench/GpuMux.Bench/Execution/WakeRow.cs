using System.Globalization;

namespace GpuMux.Bench.Execution;

/// <summary>
/// One case of <c>GpuMux.Bench wake</c>: the end of each step to its completion frame written by
/// the daemon (over the socket only) and to its completion delivered, in microseconds, and what
/// the engine thread spent meanwhile.
/// </summary>
internal sealed record WakeRow(string Case, IReadOnlyList<double> WrittenUs, IReadOnlyList<double> DeliveredUs, EngineThreadReading Engine)
{
    public const double GoalP99Us = 50;

    public static string[] Header(bool socket) => socket
        ? ["case", "end to written p50 µs", "p99 µs", "p99 / goal", "end to delivered p50 µs", "p99 µs", "p99 / goal", "engine thread CPU ms", "wake-ups"]
        : ["case", "end to delivered p50 µs", "p99 µs", "p99 / goal", "engine thread CPU ms", "wake-ups"];

    public string[] Cells(bool socket) => socket
        ? [Case, .. Percentiles(WrittenUs), .. Percentiles(DeliveredUs), Cpu, Wakeups]
        : [Case, .. Percentiles(DeliveredUs), Cpu, Wakeups];

    private string Cpu => $"{Engine.CpuMs.ToString("F0", CultureInfo.InvariantCulture)} of {Engine.WallMs.ToString("F0", CultureInfo.InvariantCulture)}";

    private string Wakeups => Engine.Wakeups.ToString(CultureInfo.InvariantCulture);

    private static string[] Percentiles(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0)
        {
            return ["-", "-", "-"];
        }
        var stats = SampleStatistics.Of(samples);
        return [Us(stats.Median), Us(stats.P99), (stats.P99 / GoalP99Us).ToString("F2", CultureInfo.InvariantCulture) + "x"];
    }

    private static string Us(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
}
