using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuMux.Engine.Memory;

/// <summary>
/// A piece of pinned host memory: part of a <see cref="PinnedStagingPool"/>, or one buffer of a
/// <see cref="BounceRing"/>. Its address is stable across device resets.
/// </summary>
internal sealed class PinnedSlice
{
    internal PinnedSlice(object owner, nint pointer, ulong offset, ulong bytes, ulong extentBytes)
    {
        Owner = owner;
        Pointer = pointer;
        Offset = offset;
        Bytes = bytes;
        ExtentBytes = extentBytes;
    }

    public nint Pointer { get; }

    /// <summary>Where the slice starts within its pool or ring.</summary>
    public ulong Offset { get; }

    /// <summary>The bytes asked for.</summary>
    public ulong Bytes { get; }

    /// <summary>The bytes the slice takes from its owner, <see cref="Bytes"/> rounded up to the owner's alignment.</summary>
    internal ulong ExtentBytes { get; }

    internal object Owner { get; }

    /// <summary>Set, under the pool's lock, once the slice is back in the pool.</summary>
    internal bool IsFreed { get; set; }

    /// <summary>
    /// <paramref name="length"/> bytes from <paramref name="offset"/> into the slice, for filling
    /// it in chunks: a slice may be larger than a span can be.
    /// </summary>
    public Span<byte> AsSpan(ulong offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Bytes || (ulong)length > Bytes - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"{length} bytes from offset {offset} overrun the slice's {Bytes} bytes");
        }
        // The engine is built without unsafe code; a reference made from the address serves as a pointer would.
        return MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<byte>(), Pointer + (nint)offset), length);
    }

    public override string ToString() => $"{Bytes} pinned bytes at 0x{Pointer:x}";
}
