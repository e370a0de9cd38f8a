using System.Buffers.Binary;
using System.Text;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;

namespace GpuMux.Robustness.Fuzzing;

/// <summary>What a field of a payload is, which decides how it is mutated.</summary>
internal enum FieldRole
{
    Number,
    Handle,

    /// <summary>A count of what follows, or a string's length.</summary>
    Count,

    /// <summary>An op kind, an argument kind, a module format.</summary>
    Kind,

    /// <summary>Flags and reserved fields, which must be 0 or known bits.</summary>
    Reserved,
}

internal readonly record struct Field(int Offset, int Width, FieldRole Role);

/// <summary>The file a request carries beside its frame, as the protocol wants it.</summary>
internal enum Attachment
{
    None,
    RegionFile,
    ModuleSource,
    ModelFile,
}

/// <summary>A valid request, laid out field by field so that a mutation can aim at one.</summary>
internal sealed record FrameTemplate(MessageType Type, byte[] Payload, IReadOnlyList<Field> Fields, Attachment Attachment)
{
    public int DescriptorCount => Attachment == Attachment.None ? 0 : 1;

    /// <summary>The whole frame: a header stating the payload's length and the descriptor count, then the payload.</summary>
    public byte[] Frame(uint requestId) => Frame(requestId, (ushort)Type, Payload, (byte)DescriptorCount);

    public static byte[] Frame(uint requestId, ushort type, ReadOnlySpan<byte> payload, byte descriptors, uint? statedLength = null)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(statedLength ?? (uint)payload.Length, type, descriptors, 0, requestId).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }
}

/// <summary>Writes a payload as docs/protocol.md lays it out, noting each field's place and role.</summary>
internal sealed class PayloadWriter
{
    private readonly List<byte> _bytes = [];
    private readonly List<Field> _fields = [];

    public PayloadWriter U8(byte value, FieldRole role = FieldRole.Number) => Put([value], role);

    public PayloadWriter U16(ushort value, FieldRole role = FieldRole.Number)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return Put(bytes, role);
    }

    public PayloadWriter U32(uint value, FieldRole role = FieldRole.Number)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Put(bytes, role);
    }

    public PayloadWriter U64(ulong value, FieldRole role = FieldRole.Number)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return Put(bytes, role);
    }

    public PayloadWriter F32(float value) => U32(BitConverter.SingleToUInt32Bits(value));

    /// <summary>A u16 byte length (a count, to mutate) and the UTF-8 bytes.</summary>
    public PayloadWriter String(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        U16((ushort)utf8.Length, FieldRole.Count);
        _bytes.AddRange(utf8);
        return this;
    }

    public FrameTemplate Build(MessageType type, Attachment attachment = Attachment.None) => new(type, [.. _bytes], [.. _fields], attachment);

    private PayloadWriter Put(ReadOnlySpan<byte> bytes, FieldRole role)
    {
        _fields.Add(new Field(_bytes.Count, bytes.Length, role));
        _bytes.AddRange(bytes);
        return this;
    }
}
