using System.Text.Json;

namespace GpuMux.Client.Llama;

/// <summary>A tensor as a safetensors header describes it: <paramref name="Bytes"/> of data, which follow the previous tensor's.</summary>
internal readonly record struct HeaderTensor(string Name, string DType, IReadOnlyList<long> Shape, long Bytes);

/// <summary>Writes the JSON header of a safetensors file whose tensors lie back to back in the order given.</summary>
internal static class SafetensorsHeaderWriter
{
    private const int Alignment = 8;

    /// <summary>The header, without its length prefix, padded with spaces so that the data section starts 8-byte aligned, as the format's reference writer does.</summary>
    public static byte[] Write(IEnumerable<HeaderTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
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
                json.WriteString("dtype", tensor.DType);
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.Bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.Bytes;
            }

            json.WriteEndObject();
        }

        var padding = (Alignment - (int)(buffer.Length % Alignment)) % Alignment;
        buffer.Write(Enumerable.Repeat((byte)' ', padding).ToArray());
        return buffer.ToArray();
    }
}
