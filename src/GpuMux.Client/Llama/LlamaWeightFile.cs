using System.Runtime.InteropServices;
using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Client.Llama;

/// <summary>
/// The descriptor a checkpoint's weights are registered through. The daemon takes one safetensors
/// file per model, so a sharded checkpoint is joined into one memory file, tensors in the same
/// order; that costs host memory the size of the weights until the daemon has staged them.
/// </summary>
internal sealed class LlamaWeightFile : IDisposable
{
    private const int CopyChunk = 4 << 20;

    private readonly SafeHandle _owner;

    private LlamaWeightFile(SafeHandle owner, SafeFileHandle handle)
    {
        _owner = owner;
        Handle = handle;
    }

    public SafeFileHandle Handle { get; }

    public static LlamaWeightFile Open(LlamaCheckpoint checkpoint)
    {
        if (checkpoint.Files.Count == 1)
        {
            var file = File.OpenHandle(checkpoint.Files[0], FileMode.Open, FileAccess.Read, FileShare.Read);
            return new LlamaWeightFile(file, file);
        }

        return Join(checkpoint);
    }

    public void Dispose()
    {
        Handle.Dispose();
        _owner.Dispose();
    }

    private static LlamaWeightFile Join(LlamaCheckpoint checkpoint)
    {
        var header = SafetensorsHeaderWriter.Write(checkpoint.Tensors.Select(t => new HeaderTensor(t.Name, t.DType, t.Shape, t.End - t.Begin)));
        var dataBytes = checkpoint.Tensors.Sum(t => t.End - t.Begin);
        var memory = MemoryFile.Create("gpumux-checkpoint", (ulong)(8 + header.Length + dataBytes));
        var handle = new SafeFileHandle(memory.DangerousGetHandle(), ownsHandle: false);
        try
        {
            Span<byte> length = stackalloc byte[8];
            BitConverter.TryWriteBytes(length, (ulong)header.Length);
            RandomAccess.Write(handle, length, 0);
            RandomAccess.Write(handle, header, 8);
            var at = 8L + header.Length;
            var chunk = new byte[CopyChunk];
            for (var file = 0; file < checkpoint.Files.Count; file++)
            {
                using var shard = File.OpenHandle(checkpoint.Files[file], FileMode.Open, FileAccess.Read, FileShare.Read);
                foreach (var tensor in checkpoint.Tensors.Where(t => t.File == file))
                {
                    for (var offset = tensor.Begin; offset < tensor.End;)
                    {
                        var want = (int)Math.Min(chunk.Length, tensor.End - offset);
                        var read = RandomAccess.Read(shard, chunk.AsSpan(0, want), checkpoint.DataStarts[file] + offset);
                        if (read == 0)
                        {
                            throw new InvalidDataException($"{checkpoint.Files[file]}: the file ends inside tensor {tensor.Name}");
                        }

                        RandomAccess.Write(handle, chunk.AsSpan(0, read), at);
                        at += read;
                        offset += read;
                    }
                }
            }

            return new LlamaWeightFile(memory, handle);
        }
        catch
        {
            handle.Dispose();
            memory.Dispose();
            throw;
        }
    }
}
