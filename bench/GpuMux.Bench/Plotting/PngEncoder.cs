using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuMux.Bench.Plotting;

/// <summary>Writes a <see cref="Raster"/> as an 8-bit truecolour PNG: signature, IHDR, one IDAT, IEND.</summary>
internal static class PngEncoder
{
    private const byte BitDepth = 8;
    private const byte TrueColour = 2;
    private const byte FilterNone = 0;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static void Write(Raster raster, Stream stream)
    {
        stream.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, raster.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], raster.Height);
        header[8] = BitDepth;
        header[9] = TrueColour;
        // Bytes 10 to 12 stay 0: deflate compression, adaptive filtering, no interlace.
        WriteChunk(stream, "IHDR"u8, header);
        WriteChunk(stream, "IDAT"u8, CompressRows(raster));
        WriteChunk(stream, "IEND"u8, []);
    }

    private static byte[] CompressRows(Raster raster)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            for (var y = 0; y < raster.Height; y++)
            {
                // Charts are long runs of flat colour, which deflate already squeezes without row prediction.
                zlib.WriteByte(FilterNone);
                zlib.Write(raster.Row(y));
            }
        }
        return compressed.ToArray();
    }

    private static void WriteChunk(Stream stream, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        stream.Write(type);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Append(0, type), data));
        stream.Write(word);
    }
}
