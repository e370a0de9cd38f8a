using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace GpuMux.Cli.Output;

/// <summary>A report as one JSON object, for scripts: no colour, no decoration.</summary>
internal static class JsonOutput
{
    public static void Write<T>(TextWriter writer, T report, JsonTypeInfo<T> type) =>
        writer.WriteLine(JsonSerializer.Serialize(report, type));
}
