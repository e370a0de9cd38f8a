using System.Buffers.Binary;
using System.Text;

namespace GpuMux.Protocol.Framing;

/// <summary>
/// Encodes one frame into a caller's buffer: the payload's fields, then <see cref="Finish"/> writes
/// the header in front of them. Nothing is allocated.
/// </summary>
public ref struct FrameWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _position = FrameHeader.Size;

    public readonly int PayloadLength => _position - FrameHeader.Size;

    public void WriteByte(byte value) => Take(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleLittleEndian(Take(4), value);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Take(8), value);

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteString(string value) => WriteString(value, ProtocolVersion.MaxStringBytes);

    /// <summary>Writes at most <paramref name="maxBytes"/> bytes of the string, cut at a character boundary.</summary>
    public void WriteString(string value, int maxBytes)
    {
        maxBytes = Math.Min(maxBytes, ProtocolVersion.MaxStringBytes);
        var lengthField = Take(2);
        var room = _buffer.Length - _position;
        var limit = Math.Min(maxBytes, room);
        var written = Encoding.UTF8.GetByteCount(value) <= limit
            ? Encoding.UTF8.GetBytes(value, _buffer[_position..])
            : WriteTruncated(value, limit);
        BinaryPrimitives.WriteUInt16LittleEndian(lengthField, (ushort)written);
        _position += written;
    }

    /// <summary>Reserves a field to be filled once its value is known (a count written after the items).</summary>
    public Span<byte> Reserve(int bytes) => Take(bytes);

    /// <summary>Writes the header and returns the frame's total length.</summary>
    public readonly int Finish(MessageType type, uint requestId, byte descriptorCount = 0)
    {
        new FrameHeader((uint)PayloadLength, (ushort)type, descriptorCount, 0, requestId).Write(_buffer);
        return _position;
    }

    private readonly int WriteTruncated(string value, int limit)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        encoder.Convert(value, _buffer.Slice(_position, limit), flush: true, out _, out var bytesUsed, out _);
        return bytesUsed;
    }

    private Span<byte> Take(int bytes)
    {
        if (bytes > _buffer.Length - _position)
        {
            throw new InvalidOperationException($"the message does not fit in a {_buffer.Length}-byte frame buffer");
        }

        var span = _buffer.Slice(_position, bytes);
        _position += bytes;
        return span;
    }
}
