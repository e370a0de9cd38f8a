using System.Globalization;

namespace GpuMux.Cli.Output;

/// <summary>Spans of time for people.</summary>
internal static class Durations
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>In the largest unit that is at least 1: <c>3 s</c>, <c>5 min</c>, <c>2 h</c>, <c>2 d</c>.</summary>
    public static string Short(TimeSpan span)
    {
        // The daemon's clock and this one are the same host's: a span below zero is rounding.
        span = span < TimeSpan.Zero ? TimeSpan.Zero : span;
        return span switch
        {
            { TotalMinutes: < 1 } => $"{(int)span.TotalSeconds} s",
            { TotalHours: < 1 } => $"{(int)span.TotalMinutes} min",
            { TotalDays: < 1 } => $"{(int)span.TotalHours} h",
            _ => $"{(int)span.TotalDays} d",
        };
    }

    /// <summary>GPU time in seconds, with fewer decimals as it grows: <c>0.25</c>, <c>12.3</c>, <c>3600</c>.</summary>
    public static string Seconds(double seconds) => seconds switch
    {
        < 10 => seconds.ToString("0.00", Invariant),
        < 1000 => seconds.ToString("0.0", Invariant),
        _ => seconds.ToString("0", Invariant),
    };

    /// <summary>Two percentiles of waits in milliseconds: <c>0.25 / 4.50 ms</c>; <c>-</c> before anything waited.</summary>
    public static string Percentiles(double? p50Ms, double? p99Ms) =>
        p50Ms is { } p50 && p99Ms is { } p99 ? $"{p50.ToString("0.00", Invariant)} / {p99.ToString("0.00", Invariant)} ms" : "-";
}
