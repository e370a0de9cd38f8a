namespace GpuMux.Bench.Plotting;

/// <summary>The CRC-32 of ISO 3309 that ends every PNG chunk.</summary>
/// <remarks>System.IO.Hashing is a NuGet package rather than part of the shared framework, and this is all PNG needs of it.</remarks>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320;

    private static readonly uint[] Table = BuildTable();

    /// <summary>Continues <paramref name="crc"/>, the CRC of the bytes before, over <paramref name="bytes"/>; start from 0.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> bytes)
    {
        var register = ~crc;
        foreach (var value in bytes)
        {
            register = Table[(register ^ value) & 0xFF] ^ (register >> 8);
        }
        return ~register;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var index = 0u; index < table.Length; index++)
        {
            var register = index;
            for (var bit = 0; bit < 8; bit++)
            {
                register = (register & 1) != 0 ? Polynomial ^ (register >> 1) : register >> 1;
            }
            table[index] = register;
        }
        return table;
    }
}
