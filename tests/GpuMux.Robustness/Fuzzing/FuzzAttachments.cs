using System.Buffers.Binary;
using System.Text;
using GpuMux.Robustness.Linux;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>The files valid requests carry: a region's memory, a kernel's source, a one-tensor model.</summary>
internal static class FuzzAttachments
{
    /// <summary>CUDA C the Sim's compiler accepts: a built-in kernel's name, declared extern "C".</summary>
    public static readonly byte[] ModuleSource =
        Encoding.UTF8.GetBytes("extern \"C\" __global__ void fill_f32(float* dst, float value, unsigned long long count) { }\n");

    /// <summary>A safetensors file of one F32 tensor "w" of four elements.</summary>
    public static readonly byte[] ModelFile = Model();

/// <summary>A safetensors file of 8 MiB of F32 weights in 8 tensors: staging it takes long enough to die during.</summary>
    public static byte[] LargeModel()
    {
        const int tensors = 8;
        const int bytes = 1 << 20;
        var json = new StringBuilder("{");
        for (var i = 0; i < tensors; i++)
        {
            json.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[{bytes / 4}],\"data_offsets\":[{i * bytes},{(i + 1) * bytes}]}}");
        }

        var header = Encoding.UTF8.GetBytes(json.Append('}').ToString().PadRight((json.Length + 8) / 8 * 8));
        var file = new byte[8 + header.Length + (tensors * bytes)];
        BitConverter.TryWriteBytes(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        new Random(8).NextBytes(file.AsSpan(8 + header.Length));
        return file;
    }

    public static OddDescriptor For(Attachment attachment, DescriptorKind kind) => OddDescriptor.Create(kind, attachment switch
    {
        Attachment.RegionFile => new byte[FuzzState.RegionBytes],
        Attachment.ModuleSource => ModuleSource,
        Attachment.ModelFile => ModelFile,
        _ => [],
    });

    private static byte[] Model()
    {
        var header = Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}".PadRight(56));
        var file = new byte[8 + header.Length + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        for (var i = 0; i < 16; i++)
        {
            file[8 + header.Length + i] = (byte)(i + 1);
        }

        return file;
    }
}
