using System.Buffers.Binary;
using GpuMux.Client.Llama;
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
        var header = SafetensorsHeaderWriter.Write(tensors.Select(t => new HeaderTensor(t.Name, t.DType.WireName, t.Shape, t.ByteLength)), metadata);
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
}
