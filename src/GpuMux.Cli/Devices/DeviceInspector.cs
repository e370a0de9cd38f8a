using GpuMux.Gpu;

namespace GpuMux.Cli.Devices;

/// <summary>Opens a device's context on the calling thread, reads what needs one, and runs the self-check.</summary>
internal static class DeviceInspector
{
    public static DevicesReport InspectAll(BackendSelection selection)
    {
        var backend = selection.Backend;
        return new DevicesReport(BackendReport.From(selection), [.. backend.Devices.Select(device => Inspect(backend, device))]);
    }

    public static DeviceReport Inspect(GpuBackend backend, GpuDeviceInfo device)
    {
        var report = new DeviceReport(
            device.Ordinal,
            device.Name,
            device.ComputeCapability.ToString(),
            device.TotalMemoryBytes,
            FreeMemoryBytes: null,
            device.MultiprocessorCount,
            device.PciBusId,
            StreamPriorities: null,
            device.IsSimulated,
            Checks: [],
            Error: null);
        try
        {
            using var context = backend.CreateContext(device.Ordinal);
            report = report with
            {
                FreeMemoryBytes = context.GetMemoryInfo().FreeBytes,
                StreamPriorities = new StreamPriorities(context.StreamPriorities.Greatest, context.StreamPriorities.Least),
            };
            return report with { Checks = DeviceSelfCheck.Run(context) };
        }
        catch (GpuException e)
        {
            return report with { Error = e.Message };
        }
    }
}
