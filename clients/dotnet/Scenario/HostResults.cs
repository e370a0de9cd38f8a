using System.Security.Cryptography;

namespace GpuMux.Scenario;

/// <summary>
/// The scenario's inputs and what the daemon must compute from them, worked out on the host as
/// docs/protocol.md defines the built-in kernels. The inputs make every result exact in f32, so a
/// plain sum in double is the gemv's result whatever its order.
/// </summary>
internal static class HostResults
{
    public const int N = 4096;
    public const int Rows = 64;
    public const int Cols = 128;

    public static float[] X { get; } = [.. Enumerable.Range(0, N).Select(i => ((7 * i % 101) - 50) / 8f)];

    public static float[] Y { get; } = [.. Enumerable.Range(0, N).Select(i => ((3 * i % 53) - 26) / 4f)];

    /// <summary>The weights, row-major.</summary>
    public static float[] W { get; } = [.. Enumerable.Range(0, Rows * Cols).Select(k => ((5 * (k / Cols) + 3 * (k % Cols)) % 17 - 8) / 4f)];

    public static float[] V { get; } = X[..Cols];

    public static ushort[] WHalf { get; } = [.. W.Select(w => BitConverter.HalfToUInt16Bits((Half)w))];

    /// <summary>bfloat16 is the high half of the f32's bits; every weight fits it exactly.</summary>
    public static ushort[] WBfloat16 { get; } = [.. W.Select(w => (ushort)(BitConverter.SingleToUInt32Bits(w) >> 16))];

    public static float[] Axpy(float a) => [.. X.Zip(Y, (x, y) => (a * x) + y)];

    public static float[] Gemv() =>
        [.. Enumerable.Range(0, Rows).Select(r => (float)Enumerable.Range(0, Cols).Sum(c => (double)W[(r * Cols) + c] * V[c]))];

    /// <summary>The checksum kernel's sum: mix64((i &lt;&lt; 32) | word_i) over the little-endian 32-bit words, modulo 2^64.</summary>
    public static ulong Checksum(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        for (var i = 0; i * 4 < data.Length; i++)
        {
            uint word = 0;
            for (var b = 0; b < 4 && (i * 4) + b < data.Length; b++)
            {
                word |= (uint)data[(i * 4) + b] << (8 * b);
            }
            sum += Mix64(((ulong)i << 32) | word);
        }
        return sum;
    }

    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static ulong Mix64(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return x;
    }
}
