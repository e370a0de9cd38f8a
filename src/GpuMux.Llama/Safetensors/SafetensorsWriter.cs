using System.Buffers.Binary;
using System.Text.Json;
using GpuMux.Engine.Models.Safetensors;

namespace GpuMux.Llama.Safetensors;

/// <summary>A tensor to write: its data comes from the caller in file order.</summary>
internal sealed record SafetensorsEntry(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)
{
    public long ByteLength => Shape.Aggregate((long)DType.ElementSize, (product, dimension) => product * dimension);
}

/// <summary>
/// Writes safetensors files a tensor at a time, so that a file larger than memory never has to be held whole:
/// the header first (its offsets follow from the shapes alone), then each tensor's bytes from the caller.
/// </summary>
internal static class SafetensorsWriter
{
    private const int Alignment = 8;

    /// <summary>
    /// Writes <paramref name="path"/>. <paramref name="writeData"/> is called once per tensor, in order, and must write
    /// exactly that tensor's bytes to the stream it is given.
    /// </summary>
    public static void Write(
        string path,
        IReadOnlyList<SafetensorsEntry> tensors,
        IReadOnlyDictionary<string, string> metadata,
        Action<int, Stream> writeData)
    {
        var header = Header(tensors, metadata);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
        Span<byte> length = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        file.Write(header);
        for (var i = 0; i < tensors.Count; i++)
        {
            var start = file.Position;
            writeData(i, file);
            var written = file.Position - start;
            if (written != tensors[i].ByteLength)
            {
                throw new InvalidOperationException($"tensor '{tensors[i].Name}' is {tensors[i].ByteLength} bytes but {written} were written for it");
            }
        }
    }

    /// <summary>The JSON header, padded with spaces so that the data section starts 8-byte aligned, as the reference writer does.</summary>
    private static byte[] Header(IReadOnlyList<SafetensorsEntry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            var offset = 0L;
            foreach (var tensor in tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.WireName);
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }

            json.WriteEndObject();
        }

        var padding = (Alignment - (int)(buffer.Length % Alignment)) % Alignment;
        buffer.Write(Enumerable.Repeat((byte)' ', padding).ToArray());
        return buffer.ToArray();
    }
}
