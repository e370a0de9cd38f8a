namespace GpuMux.Robustness.Safetensors;

/// <summary>
/// One tensor of a header as text, so that any part of it can be written wrongly: its name as
/// JSON (escapes and all) and as decoded, its dtype, its shape and its offsets.
/// </summary>
internal sealed class HeaderEntry
{
    public required string NameJson { get; set; }

    public required string Name { get; init; }

    public required string DType { get; set; }

    public required List<string> Shape { get; init; }

    public required ulong Begin { get; set; }

    public required ulong End { get; set; }

    /// <summary>The offsets as written; null writes <see cref="Begin"/> and <see cref="End"/>.</summary>
    public List<string>? OffsetsText { get; set; }

    /// <summary>The fields in the order they are written; a field left out is missing from the header.</summary>
    public List<string> FieldOrder { get; set; } = ["dtype", "shape", "data_offsets"];

    public string Render(string space) =>
        $"\"{NameJson}\":{space}{{{string.Join($",{space}", FieldOrder.Select(field => field switch
        {
            "dtype" => $"\"dtype\":{space}\"{DType}\"",
            "shape" => $"\"shape\":{space}[{string.Join(',', Shape)}]",
            "data_offsets" => $"\"data_offsets\":{space}[{string.Join(',', OffsetsText ?? [Begin.ToString(System.Globalization.CultureInfo.InvariantCulture), End.ToString(System.Globalization.CultureInfo.InvariantCulture)])}]",
            _ => $"\"{field}\":{space}0",
        }))}}}";
}
