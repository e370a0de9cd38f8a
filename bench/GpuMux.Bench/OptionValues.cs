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

    public static int Count(string name, string value, int minimum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= minimum
            ? count
            : throw new UsageException($"{name}: expected a whole number of at least {minimum}, not '{value}'");
}
