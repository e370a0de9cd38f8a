using System.Globalization;

namespace GpuMux.Cli.Output;

internal static class Counts
{
    /// <summary>A count and its noun, in the plural where it is not 1: <c>1 session</c>, <c>3 sessions</c>.</summary>
    public static string Of(long count, string noun) =>
        count == 1 ? $"1 {noun}" : $"{count.ToString(CultureInfo.InvariantCulture)} {noun}s";
}
