using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Client.Llama;

/// <summary>
/// Reads the JSON header of a safetensors file (a little-endian u64 length, then the header, then
/// the data section), enough to name each tensor's type, shape and bytes. The daemon validates the
/// file in full when it is registered; this reads only what the runner needs to plan with.
/// </summary>
internal static class SafetensorsHeaderReader
{
    private const long MaxHeaderBytes = 100 << 20;

    /// <summary>The tensors of <paramref name="path"/> (file <paramref name="fileIndex"/> of its checkpoint), and the offset of its data section.</summary>
    public static (List<CheckpointTensor> Tensors, long DataStart) Read(string path, int fileIndex)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var header = ReadHeader(file, path);
        var dataBytes = RandomAccess.GetLength(file) - 8 - header.Length;
        using var document = Parse(header, path);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not a JSON object");
        }

        var tensors = new List<CheckpointTensor>();
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                continue;
            }

            var tensor = Tensor(entry, fileIndex, path);
            if (tensor.Begin < 0 || tensor.Begin > tensor.End || tensor.End > dataBytes || tensor.Shape.Any(d => d < 0))
            {
                throw new InvalidDataException(
                    $"{path}: tensor '{tensor.Name}' lies at [{tensor.Begin}, {tensor.End}) of a {dataBytes}-byte data section, or has a negative dimension");
            }

            tensors.Add(tensor);
        }

        return (tensors, 8 + header.Length);
    }

    private static JsonDocument Parse(byte[] header, string path)
    {
        try
        {
            return JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not JSON: {e.Message}", e);
        }
    }

    private static byte[] ReadHeader(SafeFileHandle file, string path)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (RandomAccess.Read(file, prefix, 0) != 8)
        {
            throw new InvalidDataException($"{path}: shorter than a safetensors header's length");
        }

        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length is 0 or > MaxHeaderBytes)
        {
            throw new InvalidDataException($"{path}: a safetensors header of {length} bytes; it must be 1 to {MaxHeaderBytes}");
        }

        var header = new byte[length];
        if (RandomAccess.Read(file, header, 8) != header.Length)
        {
            throw new InvalidDataException($"{path}: the file ends inside its {length}-byte safetensors header");
        }

        return header;
    }

    private static CheckpointTensor Tensor(JsonProperty entry, int fileIndex, string path)
    {
        try
        {
            var value = entry.Value;
            var offsets = value.GetProperty("data_offsets");
            var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            return new CheckpointTensor(
                entry.Name, value.GetProperty("dtype").GetString() ?? "", shape, fileIndex, offsets[0].GetInt64(), offsets[1].GetInt64());
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{path}: tensor '{entry.Name}' lacks a dtype, a shape of integers or two data_offsets", e);
        }
    }
}
