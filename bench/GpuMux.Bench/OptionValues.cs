using System.Globalization;
using GpuMux.Gpu;

namespace GpuMux.Bench;

/// <summary>The option values every benchmark command parses the same way.</summary>
internal static class OptionValues
{
    public static BackendPreference Backend(string value) => value switch
    {
        "auto" => BackendPreference.Auto,
        "cuda" => BackendPreference.Cuda,
        "sim" => BackendPreference.Sim,
        _ => throw new UsageException($"--backend: expected auto, cuda or sim, not '{value}'"),
    };

    /// <summary>The arguments as option names, each followed by its value.</summary>
    public static IEnumerable<(string Name, string Value)> Pairs(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i += 2)
        {
            yield return (args[i], i + 1 < args.Count ? args[i + 1] : throw new UsageException($"{args[i]}: missing value"));
        }
    }

    public static int Count(string name, string value, int minimum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= minimum
            ? count
            : throw new UsageException($"{name}: expected a whole number of at least {minimum}, not '{value}'");

    /// <summary>A finite decimal number above <paramref name="above"/>.</summary>
    public static double Number(string name, string value, double above) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number > above
            ? number
            : throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{name}: expected a number above {above}, not '{value}'"));

    /// <summary>A comma-separated list of whole numbers, duplicates dropped, in the order given.</summary>
    public static int[] Counts(string name, string value, int minimum) => List(name, value, item => Count(name, item, minimum));

    /// <summary>A comma-separated list of decimal numbers, duplicates dropped, in the order given.</summary>
    public static double[] Numbers(string name, string value, double above) => List(name, value, item => Number(name, item, above));

    private static T[] List<T>(string name, string value, Func<string, T> parse)
    {
        var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0)
        {
            throw new UsageException($"{name}: expected a comma-separated list, not '{value}'");
        }
        return [.. items.Select(parse).Distinct()];
    }
}
