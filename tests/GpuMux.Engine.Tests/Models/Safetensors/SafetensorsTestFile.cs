using System.Buffers.Binary;
using System.Text;

namespace GpuMux.Engine.Tests.Models.Safetensors;

/// <summary>Writes safetensors files the way the reference writer does, independently of the parser under test.</summary>
internal static class SafetensorsTestFile
{
    private static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <summary>A header JSON (with its data length) laying the tensors out back to back in the order given.</summary>
    public static (string Json, int DataBytes) Header(IEnumerable<(string Name, string DType, ulong[] Shape)> tensors, string? metadataJson = null)
    {
        var json = new StringBuilder("{");
        if (metadataJson is not null)
        {
            json.Append("\"__metadata__\":").Append(metadataJson);
        }

        var offset = 0UL;
        foreach (var (name, dtype, shape) in tensors)
        {
            var bytes = shape.Aggregate(1UL, (count, dimension) => count * dimension) * (ulong)ElementSizes[dtype];
            json.Append(json.Length > 1 ? "," : "")
                .Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }

        return (json.Append('}').ToString(), (int)offset);
    }

    /// <summary>The file: length prefix, header (padded with spaces to a multiple of 8, as the reference writer does) and data.</summary>
    public static byte[] Build(string json, int dataBytes, bool align = true) =>
        Build(Encoding.UTF8.GetBytes(align ? json.PadRight((json.Length + 7) / 8 * 8) : json), dataBytes);

    public static byte[] Build(ReadOnlySpan<byte> header, int dataBytes, ulong? lengthPrefix = null)
    {
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, lengthPrefix ?? (ulong)header.Length);
        header.CopyTo(file.AsSpan(8));
        for (var i = 8 + header.Length; i < file.Length; i++)
        {
            file[i] = (byte)i;
        }

        return file;
    }

    /// <summary>JSON written with single quotes, so that test cases stay readable.</summary>
    public static string Json(string singleQuoted) => singleQuoted.Replace('\'', '"');
}
