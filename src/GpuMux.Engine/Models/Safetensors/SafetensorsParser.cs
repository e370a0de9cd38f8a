using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Models.Safetensors;

/// <summary>
/// Reads and fully validates the header of a safetensors file: an 8-byte little-endian header length N,
/// N bytes of JSON, then the data section the JSON's offsets index.
/// </summary>
public static class SafetensorsParser
{
    internal const int LengthPrefixBytes = 8;

    /// <summary>
    /// Reads the header with positional reads (the handle's file offset is neither used nor moved, so it may be
    /// shared) and validates it against <paramref name="fileLength"/>.
    /// </summary>
    public static SafetensorsHeader Read(SafeFileHandle file, ulong fileLength, ulong maxHeaderBytes)
    {
        ArgumentNullException.ThrowIfNull(file);
        CheckFileHoldsPrefix(fileLength);
        Span<byte> prefix = stackalloc byte[LengthPrefixBytes];
        ReadExactly(file, prefix, 0, fileLength, "the header length");
        var headerBytes = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        CheckHeaderLength(headerBytes, fileLength, Math.Min(maxHeaderBytes, (ulong)Array.MaxLength));

        var length = (int)headerBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var json = buffer.AsSpan(0, length);
            ReadExactly(file, json, LengthPrefixBytes, fileLength, "the header");
            return Parse(json, headerBytes, fileLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Validates a header held in memory: <paramref name="headerJson"/> starts at file offset 8 and holds at least
    /// <paramref name="headerBytes"/> bytes (more, such as the rest of the file, are ignored).
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> headerJson, ulong headerBytes, ulong fileLength)
    {
        CheckFileHoldsPrefix(fileLength);
        CheckHeaderLength(headerBytes, fileLength, ulong.MaxValue);
        if ((ulong)headerJson.Length < headerBytes)
        {
            throw new SafetensorsFormatException(
                $"header is truncated: its length prefix says {headerBytes} bytes but only {headerJson.Length} are present");
        }

        var dataBytes = fileLength - LengthPrefixBytes - headerBytes;
        return SafetensorsHeaderReader.Read(headerJson[..(int)headerBytes], headerBytes, dataBytes);
    }

    /// <summary>Validates a whole file held in memory, length prefix included.</summary>
    public static SafetensorsHeader ParseFile(ReadOnlySpan<byte> file, ulong maxHeaderBytes)
    {
        var fileLength = (ulong)file.Length;
        CheckFileHoldsPrefix(fileLength);
        var headerBytes = BinaryPrimitives.ReadUInt64LittleEndian(file);
        CheckHeaderLength(headerBytes, fileLength, maxHeaderBytes);
        return Parse(file[LengthPrefixBytes..], headerBytes, fileLength);
    }

    private static void CheckFileHoldsPrefix(ulong fileLength)
    {
        if (fileLength < LengthPrefixBytes)
        {
            throw new SafetensorsFormatException(
                $"file is {fileLength} bytes, too short for the 8-byte header length a safetensors file starts with");
        }
    }

    private static void CheckHeaderLength(ulong headerBytes, ulong fileLength, ulong maxHeaderBytes)
    {
        if (headerBytes == 0)
        {
            throw new SafetensorsFormatException("header length is 0; even a file without tensors has the header '{}'");
        }

        if (headerBytes > maxHeaderBytes)
        {
            throw new SafetensorsFormatException(
                $"header length is {headerBytes} bytes, more than the {maxHeaderBytes} bytes allowed; the file is damaged or not safetensors");
        }

        if (headerBytes > fileLength - LengthPrefixBytes)
        {
            throw new SafetensorsFormatException(
                $"header length is {headerBytes} bytes but the file has only {fileLength - LengthPrefixBytes} bytes after the length prefix; the file is truncated or not safetensors");
        }
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> destination, long offset, ulong fileLength, string what)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var read = RandomAccess.Read(file, destination[done..], offset + done);
            if (read == 0)
            {
                throw new SafetensorsFormatException(
                    $"file ended at byte {offset + done} while reading {what}, though its length was given as {fileLength} bytes; it is truncated or still being written");
            }

            done += read;
        }
    }
}
