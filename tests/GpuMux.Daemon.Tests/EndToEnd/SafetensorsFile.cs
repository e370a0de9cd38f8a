using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Model files for the tests that register models: safetensors with F32 tensors, in the order given.</summary>
internal static class SafetensorsFile
{
    /// <summary>Writes <c>name.safetensors</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string Write(string directory, string name, params (string Name, float[] Values)[] tensors)
    {
        var header = new StringBuilder("{");
        ulong offset = 0;
        foreach (var (tensorName, values) in tensors)
        {
            var bytes = (ulong)values.Length * sizeof(float);
            header.Append(CultureInfo.InvariantCulture, $"\"{tensorName}\":{{\"dtype\":\"F32\",\"shape\":[{values.Length}],\"data_offsets\":[{offset},{offset + bytes}]}},");
            offset += bytes;
        }

        header.Length--;
        header.Append('}');
        var json = Encoding.UTF8.GetBytes(header.ToString());
        var path = Path.Combine(directory, $"{name}.safetensors");
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        stream.Write(length);
        stream.Write(json);
        foreach (var (_, values) in tensors)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }

        return path;
    }
}
