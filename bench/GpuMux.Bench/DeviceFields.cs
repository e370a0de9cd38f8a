using System.Globalization;
using GpuMux.Gpu;

namespace GpuMux.Bench;

/// <summary>Name and value rows for the backend and the device in the header of a raw results file.</summary>
internal static class DeviceFields
{
    public static IEnumerable<string[]> Of(string backendDescription, string? cudaUnavailableReason, GpuDeviceInfo device)
    {
        yield return ["backend", backendDescription];
        if (cudaUnavailableReason is { } reason)
        {
            yield return ["cuda", $"unavailable: {reason}"];
        }
        yield return ["device", device.Name];
        yield return ["compute capability", device.ComputeCapability.ToString()];
        yield return ["device memory", string.Create(CultureInfo.InvariantCulture, $"{device.TotalMemoryBytes / (double)(1UL << 30):F1} GiB ({device.TotalMemoryBytes} bytes)")];
        yield return ["PCI bus id", device.PciBusId];
    }
}
