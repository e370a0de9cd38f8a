using System.Text.Json;
using GpuMux.Cli.Devices;

namespace GpuMux.Cli.Output;

/// <summary>The report as one JSON object, for scripts: no colour, no decoration.</summary>
internal static class DevicesJsonWriter
{
    public static void Write(TextWriter writer, DevicesReport report) =>
        writer.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.DevicesReport));
}
