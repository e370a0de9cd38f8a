using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using GpuMux.Gpu.Kernels;
using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Bench.Models;

/// <summary>
/// A safetensors file in a memfd, as a client would pass it: <see cref="ModelGeometry.Layers"/>
/// f16 weight matrices named <c>layers.{i}.weight</c>, filled from a seeded generator with
/// finite values (magnitudes in [1/8, 1/4), either sign), and the gemv results of its first and
/// last layers for one input, from the host reference, to check the device's work against.
/// </summary>
internal sealed unsafe class SyntheticModel : IDisposable
{
    private readonly MemoryFile _file;

    private SyntheticModel(string name, ModelGeometry geometry, MemoryFile file, float[] firstLayerY, float[] lastLayerY)
    {
        Name = name;
        Geometry = geometry;
        _file = file;
        FirstLayerY = firstLayerY;
        LastLayerY = lastLayerY;
    }

    public string Name { get; }

    public ModelGeometry Geometry { get; }

    /// <summary>W·x of layer 0, as <see cref="KernelReference.GemvF16"/> computes it.</summary>
    public float[] FirstLayerY { get; }

    /// <summary>W·x of the last layer.</summary>
    public float[] LastLayerY { get; }

    public static string LayerName(int layer) => string.Create(CultureInfo.InvariantCulture, $"layers.{layer}.weight");

    /// <summary>The input vector of every benchmark model's gemv, seeded: <see cref="ModelGeometry.Cols"/> values in [-1, 1).</summary>
    public static float[] Input()
    {
        var random = new Random(42);
        var x = new float[ModelGeometry.Cols];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (random.NextSingle() * 2) - 1;
        }
        return x;
    }

    public static SyntheticModel Create(string name, ModelGeometry geometry, int seed, float[] x)
    {
        var header = Header(geometry);
        var dataOffset = sizeof(ulong) + (ulong)header.Length;
        var length = dataOffset + geometry.Bytes;
        var file = MemoryFile.Create($"gpumux-bench-{name}", length);
        try
        {
            var address = PageMappings.MapShared(file, (nuint)length);
            try
            {
                var bytes = (byte*)address;
                BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(bytes, sizeof(ulong)), (ulong)header.Length);
                header.CopyTo(new Span<byte>(bytes + sizeof(ulong), header.Length));
                FillWeights((ulong*)(bytes + dataOffset), geometry.Bytes / sizeof(ulong), seed);
                var first = LayerY(geometry, bytes + dataOffset, 0, x);
                var last = LayerY(geometry, bytes + dataOffset, geometry.Layers - 1, x);
                return new SyntheticModel(name, geometry, file, first, last);
            }
            finally
            {
                PageMappings.Unmap(address, (nuint)length);
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A new descriptor of the model's file, for the engine to take (and close).</summary>
    public SafeFileHandle OpenDescriptor() => MemoryFileHandles.OpenNew(_file);

    public void Dispose() => _file.Dispose();

    /// <summary>The JSON header, padded with spaces to a multiple of 8 bytes as the format recommends.</summary>
    private static byte[] Header(ModelGeometry geometry)
    {
        var json = new StringBuilder("{");
        for (var layer = 0; layer < geometry.Layers; layer++)
        {
            var begin = geometry.LayerBytes * (ulong)layer;
            json.Append(CultureInfo.InvariantCulture,
                $"\"{LayerName(layer)}\":{{\"dtype\":\"F16\",\"shape\":[{geometry.Rows},{ModelGeometry.Cols}],\"data_offsets\":[{begin},{begin + geometry.LayerBytes}]}},");
        }
        json.Length--;
        json.Append('}');
        while (json.Length % 8 != 0)
        {
            json.Append(' ');
        }
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    // Four halves per word from a xorshift generator: sign and mantissa random, exponent fixed at
    // 2^-3, so every weight is finite and a row's sum stays far from overflow.
    private static void FillWeights(ulong* words, ulong count, int seed)
    {
        const ulong KeepSignAndMantissa = 0x83FF_83FF_83FF_83FFUL;
        const ulong ExponentMinus3 = 0x3000_3000_3000_3000UL;
        var state = KernelReference.Mix64((ulong)seed + 1) | 1;
        for (ulong i = 0; i < count; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            words[i] = (state & KeepSignAndMantissa) | ExponentMinus3;
        }
    }

    private static float[] LayerY(ModelGeometry geometry, byte* data, int layer, float[] x)
    {
        var weights = new ReadOnlySpan<byte>(data + (geometry.LayerBytes * (ulong)layer), checked((int)geometry.LayerBytes));
        var y = new float[geometry.Rows];
        KernelReference.Gemv(WeightType.F16, weights, x, y, geometry.Rows, ModelGeometry.Cols);
        return y;
    }
}
