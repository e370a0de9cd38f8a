using System.Globalization;

namespace GpuMux.Cli.Output;

/// <summary>Byte counts for people, in binary units: <c>512 B</c>, <c>4.0 KiB</c>, <c>80.0 GiB</c>.</summary>
internal static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    public static string Format(ulong bytes)
    {
        if (bytes < 1024)
        {
            return $"{bytes.ToString(CultureInfo.InvariantCulture)} B";
        }

        var value = (double)bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return $"{value.ToString("0.0", CultureInfo.InvariantCulture)} {Units[unit]}";
    }
}
