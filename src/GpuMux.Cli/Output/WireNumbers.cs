namespace GpuMux.Cli.Output;

/// <summary>Numbers the wire sends as NaN for "not measured yet", which JSON cannot carry, as null.</summary>
internal static class WireNumbers
{
    public static double? Measured(double value) => double.IsFinite(value) ? value : null;
}
