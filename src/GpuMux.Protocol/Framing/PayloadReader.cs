using System.Buffers.Binary;
using System.Text;

namespace GpuMux.Protocol.Framing;

/// <summary>Reads the little-endian fields of one payload, refusing to read past its end.</summary>
public ref struct PayloadReader(ReadOnlySpan<byte> payload)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _payload = payload;
    private int _position;

    public readonly int Remaining => _payload.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public bool ReadBoolean() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var other => throw new MalformedPayloadException($"a boolean is 0 or 1, not {other}"),
    };

    /// <summary>A u16 byte length, then that many bytes of UTF-8.</summary>
    public string ReadString()
    {
        var bytes = Take(ReadUInt16());
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new MalformedPayloadException("a string field is not valid UTF-8");
        }
    }

    public void Skip(int bytes) => Take(bytes);

    /// <summary>Called after the last field: trailing bytes mean the sender meant another layout.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw new MalformedPayloadException($"{Remaining} bytes follow the last field");
        }
    }

    private ReadOnlySpan<byte> Take(int bytes)
    {
        if (bytes > Remaining)
        {
            throw new MalformedPayloadException($"the payload ends {bytes - Remaining} bytes short of its fields");
        }

        var span = _payload.Slice(_position, bytes);
        _position += bytes;
        return span;
    }
}
