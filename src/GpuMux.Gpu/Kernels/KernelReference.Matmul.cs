using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Kernels;

public static partial class KernelReference
{
    public static void MatmulF32(ReadOnlySpan<float> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols, int tokens) =>
        Matmul<F32Weights, float>(w, x, y, rows, cols, tokens);

    public static void MatmulF16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols, int tokens) =>
        Matmul<F16Weights, ushort>(w, x, y, rows, cols, tokens);

    public static void MatmulBf16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols, int tokens) =>
        Matmul<Bf16Weights, ushort>(w, x, y, rows, cols, tokens);

    /// <summary>
    /// The matmul of <paramref name="type"/> over weights as <see cref="EncodeWeights"/> lays them
    /// out: y[t] = w · x[t] for each of <paramref name="tokens"/> rows of x (tokens × cols) into
    /// y (tokens × rows).
    /// </summary>
    public static void Matmul(WeightType type, ReadOnlySpan<byte> weights, ReadOnlySpan<float> x, Span<float> y, int rows, int cols, int tokens)
    {
        switch (type)
        {
            case WeightType.F32:
                MatmulF32(MemoryMarshal.Cast<byte, float>(weights), x, y, rows, cols, tokens);
                break;
            case WeightType.F16:
                MatmulF16(MemoryMarshal.Cast<byte, ushort>(weights), x, y, rows, cols, tokens);
                break;
            case WeightType.Bf16:
                MatmulBf16(MemoryMarshal.Cast<byte, ushort>(weights), x, y, rows, cols, tokens);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    // Each (token, row) is the gemv of that row against that token's activations, in gemv's order:
    // the kernel's tiling of tokens changes which warp computes it, never how.
    private static void Matmul<TWeights, T>(ReadOnlySpan<T> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols, int tokens)
        where TWeights : IWeights<T>
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (x.Length < (long)tokens * cols || y.Length < (long)tokens * rows)
        {
            throw new ArgumentException(
                $"A matmul of {tokens} tokens through {rows}x{cols} weights needs {(long)tokens * cols} inputs and {(long)tokens * rows} outputs; " +
                $"got {x.Length} and {y.Length}.");
        }

        for (var t = 0; t < tokens; t++, x = x[cols..], y = y[rows..])
        {
            Gemv<TWeights, T>(w, x[..cols], y[..rows], rows, cols);
        }
    }
}
