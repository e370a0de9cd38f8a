using System.Buffers.Binary;

namespace GpuMux.Protocol.Framing;

/// <summary>The 12-byte little-endian header in front of every frame (docs/protocol.md §2).</summary>
public readonly record struct FrameHeader(uint PayloadLength, ushort Type, byte DescriptorCount, byte Flags, uint RequestId)
{
    public const int Size = 12;

    public const int MaxDescriptors = 4;

    /// <summary>Reads a header from the first <see cref="Size"/> bytes; false when there are fewer.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        header = new FrameHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
            source[6],
            source[7],
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));
        return true;
    }

    public void Write(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination, PayloadLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Type);
        destination[6] = DescriptorCount;
        destination[7] = Flags;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], RequestId);
    }
}
