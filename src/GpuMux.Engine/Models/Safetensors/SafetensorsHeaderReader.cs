using System.Collections.ObjectModel;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace GpuMux.Engine.Models.Safetensors;

/// <summary>
/// Walks the header JSON with <see cref="Utf8JsonReader"/> (no reflection, so NativeAOT-safe), rejecting every
/// field, type or value the format does not allow as soon as it is seen.
/// </summary>
internal static class SafetensorsHeaderReader
{
    private const string Expected = "dtype, shape and data_offsets";

    public static SafetensorsHeader Read(ReadOnlySpan<byte> json, ulong headerBytes, ulong dataBytes)
    {
        if (!Utf8.IsValid(json))
        {
            throw Error($"header is not valid UTF-8 (first bad byte at header offset {FirstInvalidUtf8(json)})");
        }

        // Leading whitespace is rejected too, as the reference implementation does (InvalidHeaderStart).
        if (json[0] != (byte)'{')
        {
            throw Error($"header must start with '{{' but starts with {DescribeByte(json[0])}");
        }

        var reader = new Utf8JsonReader(json);
        try
        {
            var (tensors, metadata) = ReadRoot(ref reader, dataBytes);
            CheckPadding(json, (int)reader.BytesConsumed);
            SafetensorsLayout.SortAndCheckCoverage(tensors, dataBytes);
            return new SafetensorsHeader(
                headerBytes,
                SafetensorsParser.LengthPrefixBytes + headerBytes,
                dataBytes,
                tensors.AsReadOnly(),
                metadata?.AsReadOnly() ?? ReadOnlyDictionary<string, string>.Empty);
        }
        catch (JsonException e)
        {
            throw Error($"header is not valid JSON: {e.Message}");
        }
    }

    private static (List<SafetensorsTensor> Tensors, Dictionary<string, string>? Metadata) ReadRoot(ref Utf8JsonReader reader, ulong dataBytes)
    {
        Next(ref reader); // the '{' checked by the caller
        var tensors = new List<SafetensorsTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var shape = new List<ulong>();
        Dictionary<string, string>? metadata = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (TextEquals(ref reader, "__metadata__"u8))
            {
                if (metadata is not null)
                {
                    throw Error("header has \"__metadata__\" twice");
                }

                metadata = ReadMetadata(ref reader);
                continue;
            }

            var name = GetString(ref reader);
            if (name.Length == 0)
            {
                throw Error("header has a tensor with an empty name");
            }

            if (!names.Add(name))
            {
                throw Error($"header has tensor '{name}' twice");
            }

            tensors.Add(ReadTensor(ref reader, name, dataBytes, shape));
        }

        return (tensors, metadata);
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader)
    {
        var token = Next(ref reader);
        if (token != JsonTokenType.StartObject)
        {
            throw Error($"\"__metadata__\" is {Describe(token)}; it must be an object mapping strings to strings");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var key = GetString(ref reader);
            token = Next(ref reader);
            if (token != JsonTokenType.String)
            {
                throw Error($"\"__metadata__\" entry '{key}' is {Describe(token)}; metadata values must be strings");
            }

            if (!metadata.TryAdd(key, GetString(ref reader)))
            {
                throw Error($"\"__metadata__\" has key '{key}' twice");
            }
        }

        return metadata;
    }

    private static SafetensorsTensor ReadTensor(ref Utf8JsonReader reader, string name, ulong dataBytes, List<ulong> shapeScratch)
    {
        var token = Next(ref reader);
        if (token != JsonTokenType.StartObject)
        {
            throw Error($"tensor '{name}' is {Describe(token)}; it must be an object with {Expected}");
        }

        SafetensorsDType? dtype = null;
        ulong[]? shape = null;
        (ulong Begin, ulong End)? offsets = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (TextEquals(ref reader, "dtype"u8))
            {
                CheckFirst(dtype is null, name, "dtype");
                dtype = ReadDType(ref reader, name);
            }
            else if (TextEquals(ref reader, "shape"u8))
            {
                CheckFirst(shape is null, name, "shape");
                shape = ReadShape(ref reader, name, shapeScratch);
            }
            else if (TextEquals(ref reader, "data_offsets"u8))
            {
                CheckFirst(offsets is null, name, "data_offsets");
                offsets = ReadOffsets(ref reader, name);
            }
            else
            {
                throw Error($"tensor '{name}' has unexpected field '{GetString(ref reader)}'; expected only {Expected}");
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            var missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Error($"tensor '{name}' has no \"{missing}\"; every tensor needs {Expected}");
        }

        var tensor = new SafetensorsTensor(name, dtype.Value, shape, offsets.Value.Begin, offsets.Value.End);
        SafetensorsLayout.CheckTensor(tensor, dataBytes);
        return tensor;
    }

    private static SafetensorsDType ReadDType(ref Utf8JsonReader reader, string name)
    {
        var token = Next(ref reader);
        if (token != JsonTokenType.String)
        {
            throw Error($"tensor '{name}' has a dtype that is {Describe(token)}; it must be a string such as \"F16\"");
        }

        // Longer than any escaped spelling of a known name, so unknown without unescaping.
        const int MaxEscapedLength = 64;
        Span<byte> unescaped = stackalloc byte[MaxEscapedLength];
        scoped var wire = reader.ValueSpan;
        if (reader.ValueIsEscaped && wire.Length <= MaxEscapedLength)
        {
            wire = unescaped[..CopyString(ref reader, unescaped)];
        }

        if (!SafetensorsDTypeExtensions.TryParseWireName(wire, out var dtype))
        {
            var known = string.Join(", ", Enum.GetValues<SafetensorsDType>().Select(d => d.WireName));
            throw Error($"tensor '{name}' has unknown dtype '{GetString(ref reader)}'; known dtypes are {known}");
        }

        return dtype;
    }

    private static ulong[] ReadShape(ref Utf8JsonReader reader, string name, List<ulong> scratch)
    {
        var token = Next(ref reader);
        if (token != JsonTokenType.StartArray)
        {
            throw Error($"tensor '{name}' has a shape that is {Describe(token)}; it must be an array of non-negative integers");
        }

        scratch.Clear();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            scratch.Add(ReadUInt64(ref reader, name, "shape", scratch.Count));
        }

        return scratch.ToArray();
    }

    private static (ulong Begin, ulong End) ReadOffsets(ref Utf8JsonReader reader, string name)
    {
        var token = Next(ref reader);
        if (token != JsonTokenType.StartArray)
        {
            throw Error($"tensor '{name}' has data_offsets that are {Describe(token)}; they must be an array [begin, end]");
        }

        Span<ulong> values = stackalloc ulong[2];
        var count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (count == values.Length)
            {
                throw Error($"tensor '{name}' has more than two data_offsets; they must be exactly [begin, end]");
            }

            values[count] = ReadUInt64(ref reader, name, "data_offsets", count);
            count++;
        }

        if (count != values.Length)
        {
            throw Error($"tensor '{name}' has {count} data_offsets; they must be exactly [begin, end]");
        }

        return (values[0], values[1]);
    }

    private static ulong ReadUInt64(ref Utf8JsonReader reader, string name, string field, int index)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw Error($"tensor '{name}' {field}[{index}] is {Describe(reader.TokenType)}; it must be a non-negative integer");
        }

        // Digits only: JSON also spells numbers as 1.0, 1e3 or -0, none of which is a size or an offset here.
        var text = reader.ValueSpan;
        if (text.ContainsAnyExceptInRange((byte)'0', (byte)'9') || !reader.TryGetUInt64(out var value))
        {
            throw Error($"tensor '{name}' {field}[{index}] is {Truncate(Encoding.UTF8.GetString(text))}; it must be a non-negative integer below 2^64");
        }

        return value;
    }

    private static void CheckFirst(bool first, string name, string field)
    {
        if (!first)
        {
            throw Error($"tensor '{name}' has \"{field}\" twice");
        }
    }

    private static void CheckPadding(ReadOnlySpan<byte> json, int end)
    {
        // The reference writer pads with spaces to align the data section; its reader accepts any JSON whitespace there.
        var extra = json[end..].IndexOfAnyExcept(" \t\r\n"u8);
        if (extra >= 0)
        {
            throw Error($"header has {DescribeByte(json[end + extra])} at header offset {end + extra}, after the JSON object; only whitespace padding may follow it");
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        // With the whole header as the final block, the reader throws on truncated JSON instead of returning false.
        return reader.Read() ? reader.TokenType : throw Error("header JSON ends before its object is closed");
    }

    // Unescaping a lone surrogate (a "\ud800" escape) throws InvalidOperationException rather than JsonException.
    private static string GetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw InvalidEscape(ref reader, e);
        }
    }

    private static bool TextEquals(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8)
    {
        try
        {
            return reader.ValueTextEquals(utf8);
        }
        catch (InvalidOperationException e)
        {
            throw InvalidEscape(ref reader, e);
        }
    }

    private static int CopyString(ref Utf8JsonReader reader, scoped Span<byte> destination)
    {
        try
        {
            return reader.CopyString(destination);
        }
        catch (InvalidOperationException e)
        {
            throw InvalidEscape(ref reader, e);
        }
    }

    private static SafetensorsFormatException InvalidEscape(ref Utf8JsonReader reader, InvalidOperationException e) =>
        Error($"header has a string at header offset {reader.TokenStartIndex} that is not valid text ({e.Message})");

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            offset += consumed;
        }

        return offset;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static string DescribeByte(byte value) =>
        value is >= 0x21 and < 0x7F ? $"'{(char)value}'" : $"byte 0x{value:X2}";

    private static string Truncate(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "...");

    private static SafetensorsFormatException Error(string message) => new(message);
}
