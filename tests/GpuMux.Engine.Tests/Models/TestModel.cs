using System.Buffers.Binary;
using System.Text;
using GpuMux.Gpu.Kernels;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Tests.Models;

/// <summary>One tensor of a test model: its safetensors dtype and shape, and its bytes.</summary>
internal sealed record TestTensor(string Name, string DType, ulong[] Shape, byte[] Data);

/// <summary>
/// A small safetensors file held in a memfd, as a client would pass it: a weight matrix "w" for
/// the gemv kernels first, padding tensors to give the model its size, and a "tail" tensor last
/// for the checksum kernel, so that a step touches the first and the last layer group.
/// </summary>
internal sealed class TestModel : IDisposable
{
    private readonly SharedMemoryFile _file;

    private TestModel(string name, WeightType type, int rows, int cols, TestTensor[] tensors)
    {
        Name = name;
        Type = type;
        Rows = rows;
        Cols = cols;
        Tensors = tensors;
        var image = Image(tensors);
        _file = new SharedMemoryFile((ulong)image.Length);
        _file.Write<byte>(0, image);
        DataBytes = (ulong)tensors.Sum(t => t.Data.Length);
    }

    public string Name { get; }

    public WeightType Type { get; }

    public int Rows { get; }

    public int Cols { get; }

    public IReadOnlyList<TestTensor> Tensors { get; }

    public ulong DataBytes { get; }

    public byte[] Weights => Tensors[0].Data;

    public byte[] Tail => Tensors[^1].Data;

    /// <summary>
    /// A model of <paramref name="padTensors"/> padding tensors of <paramref name="padBytes"/>
    /// each between "w" (<paramref name="rows"/> × <paramref name="cols"/> of <paramref name="type"/>)
    /// and "tail" (4 KiB); every tensor's bytes are a multiple of 16, so each starts aligned.
    /// </summary>
    public static TestModel Create(string name, int seed, WeightType type = WeightType.F32, int rows = 64, int cols = 96, int padTensors = 0, int padBytes = 0)
    {
        var random = new Random(seed);
        var tensors = new List<TestTensor>
        {
            new("w", type == WeightType.F32 ? "F32" : "F16", [(ulong)rows, (ulong)cols], KernelReference.EncodeWeights(type, TestData.Floats(seed, rows * cols))),
        };
        for (var i = 0; i < padTensors; i++)
        {
            var pad = new byte[padBytes];
            random.NextBytes(pad);
            tensors.Add(new TestTensor($"pad.{i}", "U8", [(ulong)padBytes], pad));
        }
        var tail = new byte[4096];
        random.NextBytes(tail);
        tensors.Add(new TestTensor("tail", "U8", [(ulong)tail.Length], tail));
        return new TestModel(name, type, rows, cols, [.. tensors]);
    }

    /// <summary>The bytes of a safetensors file: the header length, the JSON header padded with spaces to 8 bytes, the data.</summary>
    public static byte[] Image(IReadOnlyList<TestTensor> tensors, string? metadata = null)
    {
        var json = new StringBuilder("{");
        if (metadata is not null)
        {
            json.Append("\"__metadata__\":{\"about\":\"").Append(metadata).Append("\"},");
        }
        ulong offset = 0;
        foreach (var tensor in tensors)
        {
            var end = offset + (ulong)tensor.Data.Length;
            json.Append('"').Append(tensor.Name).Append("\":{\"dtype\":\"").Append(tensor.DType)
                .Append("\",\"shape\":[").Append(string.Join(',', tensor.Shape)).Append("],\"data_offsets\":[")
                .Append(offset).Append(',').Append(end).Append("]},");
            offset = end;
        }
        if (json[^1] == ',')
        {
            json.Length--;
        }
        json.Append('}');
        while (json.Length % 8 != 0)
        {
            json.Append(' ');
        }
        return Image(Encoding.UTF8.GetBytes(json.ToString()), [.. tensors.SelectMany(t => t.Data)]);
    }

    /// <summary>A file of a header given as it is (well formed or not) and data.</summary>
    public static byte[] Image(byte[] header, byte[] data)
    {
        var image = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(image, (ulong)header.Length);
        header.CopyTo(image, 8);
        data.CopyTo(image, 8 + header.Length);
        return image;
    }

    /// <summary>A memfd holding <paramref name="image"/>, and a descriptor of it for the engine to take.</summary>
    public static SafeFileHandle Descriptor(byte[] image, out SharedMemoryFile file)
    {
        file = new SharedMemoryFile((ulong)image.Length);
        file.Write<byte>(0, image);
        return file.OpenDescriptor();
    }

    /// <summary>A new descriptor of the model's file, for the engine to take.</summary>
    public SafeFileHandle OpenDescriptor() => _file.OpenDescriptor();

    public float[] ExpectedY(float[] x)
    {
        var y = new float[Rows];
        KernelReference.Gemv(Type, Weights, x, y, Rows, Cols);
        return y;
    }

    public ulong ExpectedTailChecksum() => KernelReference.Checksum(Tail);

    public void Dispose() => _file.Dispose();
}
