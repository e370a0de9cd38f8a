using GpuMux.Gpu;

namespace GpuMux.Engine.Metrics;

/// <summary>
/// The labels every one of gpumuxd's measurements carries, named and spelled as NVIDIA's DCGM
/// exporter names its own (<c>gpu</c>, <c>UUID</c>, <c>pci_bus_id</c>), so that a query can join
/// the daemon's series with the device's.
/// </summary>
public static class GpuLabels
{
    public const string MeterName = "GpuMux";

    public static KeyValuePair<string, object?>[] Of(GpuDeviceInfo device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return
        [
            new("gpu", device.Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("UUID", device.Uuid),
            new("pci_bus_id", NvmlBusId(device.PciBusId)),
        ];
    }

    /// <summary>
    /// The CUDA driver writes a bus id with a 4-digit domain (<c>0000:3b:00.0</c>); NVML, and so
    /// DCGM, with an 8-digit one in capitals (<c>00000000:3B:00.0</c>). Anything else is kept as it is.
    /// </summary>
    internal static string NvmlBusId(string cudaBusId)
    {
        var parts = cudaBusId.Split(':');
        if (parts.Length != 3 || parts[0].Length is 0 or > 8 || !parts.All(part => part.Length > 0 && part.All(c => char.IsAsciiHexDigit(c) || c == '.')))
        {
            return cudaBusId;
        }
        return $"{parts[0].PadLeft(8, '0')}:{parts[1]}:{parts[2]}".ToUpperInvariant();
    }
}
