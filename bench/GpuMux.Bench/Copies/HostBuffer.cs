using System.Runtime.InteropServices;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Copies;

/// <summary>
/// Host memory of either kind behind one pointer, walked in chunks of <see cref="ChunkBytes"/> so
/// that buffers past the 2 GiB a span can hold work too.
/// </summary>
internal sealed unsafe class HostBuffer : IDisposable
{
    public const int ChunkBytes = 256 << 20;

    private const nuint PageBytes = 4096;

    private readonly PinnedHostAllocation? _pinned;
    private bool _disposed;

    private HostBuffer(nint pointer, ulong length, PinnedHostAllocation? pinned)
    {
        Pointer = pointer;
        Length = length;
        _pinned = pinned;
    }

    public nint Pointer { get; }

    public ulong Length { get; }

    public static int ChunkCount(ulong bytes) => checked((int)((bytes + ChunkBytes - 1) / ChunkBytes));

    public static HostBuffer Allocate(GpuContext context, HostMemoryKind kind, ulong bytes)
    {
        switch (kind)
        {
            case HostMemoryKind.Pinned:
                var pinned = context.AllocatePinned(bytes);
                return new HostBuffer(pinned.Pointer, bytes, pinned);
            case HostMemoryKind.Pageable:
                var pointer = NativeMemory.AlignedAlloc((nuint)bytes, PageBytes);
                return new HostBuffer((nint)pointer, bytes, null);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>Random bytes, none of them zero, from a seeded generator (so a run's data can be reproduced).</summary>
    public void FillRandom(int seed)
    {
        var random = new Random(seed);
        for (ulong offset = 0; offset < Length; offset += ChunkBytes)
        {
            var chunk = Chunk(offset);
            random.NextBytes(chunk);
            chunk.Replace((byte)0, (byte)0x5A);
        }
    }

    public void Clear()
    {
        for (ulong offset = 0; offset < Length; offset += ChunkBytes)
        {
            Chunk(offset).Clear();
        }
    }

    /// <summary>
    /// The checksum of each chunk, as the built-in checksum kernel computes it over the same bytes
    /// on the device: chunk by chunk, since the simulator's kernels take at most 2^31 - 1 bytes.
    /// </summary>
    public ulong[] ChunkChecksums()
    {
        var checksums = new ulong[ChunkCount(Length)];
        for (var i = 0; i < checksums.Length; i++)
        {
            checksums[i] = KernelReference.Checksum(Chunk((ulong)i * ChunkBytes));
        }
        return checksums;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_pinned is not null)
        {
            _pinned.Dispose();
        }
        else
        {
            NativeMemory.AlignedFree((void*)Pointer);
        }
    }

    private Span<byte> Chunk(ulong offset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Span<byte>((byte*)Pointer + offset, (int)Math.Min(ChunkBytes, Length - offset));
    }
}
