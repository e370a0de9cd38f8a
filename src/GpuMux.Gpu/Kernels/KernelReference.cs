using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuMux.Gpu.Kernels;

/// <summary>
/// Host implementations of the built-in kernels in native/kernels, computing the same bits as the
/// CUDA code (compiled without --ftz or --use_fast_math): the simulator runs these, and tests use
/// them to check the device's results. The only differences left are NaN payloads, which the GPU
/// canonicalises and the CPU propagates.
/// </summary>
public static partial class KernelReference
{
    private const int WarpSize = 32;

    public static void Fill(Span<float> dst, float value) => dst.Fill(value);

    public static void Axpy(Span<float> y, ReadOnlySpan<float> x, float a)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"x has {x.Length} elements but y has {y.Length}.", nameof(x));
        }

        for (var i = 0; i < y.Length; i++)
        {
            // Rounded product, then rounded sum: the kernel's __fmul_rn and __fadd_rn.
            float product = a * x[i];
            y[i] = product + y[i];
        }
    }

    public static void GemvF32(ReadOnlySpan<float> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols) =>
        Gemv<F32Weights, float>(w, x, y, rows, cols);

    public static void GemvF16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols) =>
        Gemv<F16Weights, ushort>(w, x, y, rows, cols);

    public static void GemvBf16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols) =>
        Gemv<Bf16Weights, ushort>(w, x, y, rows, cols);

    /// <summary>Weights as the gemv kernel of <paramref name="type"/> reads them: fp32, fp16 or bf16 (rounded to nearest even), little-endian.</summary>
    public static byte[] EncodeWeights(WeightType type, ReadOnlySpan<float> values) => type switch
    {
        WeightType.F32 => MemoryMarshal.AsBytes(values).ToArray(),
        WeightType.F16 => Encode(values, value => BitConverter.HalfToUInt16Bits((Half)value)),
        WeightType.Bf16 => Encode(values, SingleToBf16),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The gemv of <paramref name="type"/> over weights as <see cref="EncodeWeights"/> lays them out.</summary>
    public static void Gemv(WeightType type, ReadOnlySpan<byte> weights, ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        switch (type)
        {
            case WeightType.F32:
                GemvF32(MemoryMarshal.Cast<byte, float>(weights), x, y, rows, cols);
                break;
            case WeightType.F16:
                GemvF16(MemoryMarshal.Cast<byte, ushort>(weights), x, y, rows, cols);
                break;
            case WeightType.Bf16:
                GemvBf16(MemoryMarshal.Cast<byte, ushort>(weights), x, y, rows, cols);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    public static float F16ToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    public static float Bf16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static ushort SingleToBf16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Truncate, setting the quiet bit so that a payload held only in the low half survives as a NaN.
            return (ushort)((bits >> 16) | 0x0040u);
        }

        // Round to nearest, ties to even; a carry out of the mantissa bumps the exponent, up to infinity.
        var roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>
    /// Returns after <paramref name="microseconds"/> of wall-clock time, like the spin kernel. It
    /// sleeps through all but the last millisecond and spins on that, so as not to hold a core.
    /// </summary>
    public static void Spin(ulong microseconds)
    {
        var ticks = microseconds * (double)Stopwatch.Frequency / 1_000_000.0;
        var deadline = Stopwatch.GetTimestamp() + (long)Math.Min(ticks, long.MaxValue / 2);
        while (true)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            if (remaining > TimeSpan.FromMilliseconds(2))
            {
                // Thread.Sleep rejects spans past about 24 days, so nap in slices of at most a second.
                var nap = remaining - TimeSpan.FromMilliseconds(1);
                Thread.Sleep(nap < TimeSpan.FromSeconds(1) ? nap : TimeSpan.FromSeconds(1));
            }
            else
            {
                Thread.SpinWait(64);
            }
        }
    }

    private static byte[] Encode(ReadOnlySpan<float> values, Func<float, ushort> encode)
    {
        var encoded = new ushort[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            encoded[i] = encode(values[i]);
        }
        return MemoryMarshal.AsBytes(encoded.AsSpan()).ToArray();
    }

    public static ulong Mix64(ulong x)
    {
        unchecked
        {
            x ^= x >> 30;
            x *= 0xBF58476D1CE4E5B9UL;
            x ^= x >> 27;
            x *= 0x94D049BB133111EBUL;
            x ^= x >> 31;
            return x;
        }
    }

    public static ulong Checksum(ReadOnlySpan<byte> data) => Checksum(data, 0);

    /// <summary>
    /// The checksum of <paramref name="data"/> taken as starting at 32-bit word
    /// <paramref name="firstWord"/> of a larger buffer: the sums of consecutive chunks, each but the
    /// last a multiple of 4 bytes long, add up (modulo 2^64) to the checksum of the whole.
    /// </summary>
    public static ulong Checksum(ReadOnlySpan<byte> data, ulong firstWord)
    {
        var words = MemoryMarshal.Cast<byte, uint>(data);
        ulong sum = 0;
        unchecked
        {
            for (var i = 0; i < words.Length; i++)
            {
                var word = BitConverter.IsLittleEndian ? words[i] : BinaryPrimitives.ReverseEndianness(words[i]);
                sum += Mix64(((firstWord + (ulong)i) << 32) | word);
            }

            var tail = data[(words.Length * sizeof(uint))..];
            if (!tail.IsEmpty)
            {
                uint word = 0;
                for (var b = 0; b < tail.Length; b++)
                {
                    word |= (uint)tail[b] << (8 * b);
                }

                sum += Mix64(((firstWord + (ulong)words.Length) << 32) | word);
            }
        }

        return sum;
    }

    public static void EmbeddingF16(ReadOnlySpan<ushort> table, ReadOnlySpan<uint> ids, Span<float> output, int vocab, int hidden) =>
        Embedding<F16Weights>(table, ids, output, vocab, hidden);

    public static void EmbeddingBf16(ReadOnlySpan<ushort> table, ReadOnlySpan<uint> ids, Span<float> output, int vocab, int hidden) =>
        Embedding<Bf16Weights>(table, ids, output, vocab, hidden);

    /// <summary>RMSNorm of each of <paramref name="rows"/> rows; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void RmsNormF16(ReadOnlySpan<float> x, ReadOnlySpan<ushort> w, Span<float> y, int rows, int cols, float eps) =>
        RmsNorm<F16Weights>(x, w, y, rows, cols, eps);

    /// <summary>RMSNorm of each of <paramref name="rows"/> rows; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void RmsNormBf16(ReadOnlySpan<float> x, ReadOnlySpan<ushort> w, Span<float> y, int rows, int cols, float eps) =>
        RmsNorm<Bf16Weights>(x, w, y, rows, cols, eps);

    /// <summary>
    /// Rotary embedding in place, rotate_half pairs, with the angle in double as rope.cu has it;
    /// the GPU may differ by 1 ulp in a cosine or sine (see rope.cu).
    /// </summary>
    public static void Rope(Span<float> x, ReadOnlySpan<uint> positions, int tokens, int width, int headDim, float theta)
    {
        RequireLengths("rope", (x.Length, (long)tokens * width), (positions.Length, tokens));
        if (headDim < 2)
        {
            return;
        }

        var half = headDim / 2;
        var heads = width / headDim;
        for (var t = 0; t < tokens; t++, x = x[width..])
        {
            for (var i = 0; i < half; i++)
            {
                var angle = positions[t] * Math.Pow(theta, -(double)(2 * i) / headDim);
                var c = (float)Math.Cos(angle);
                var s = (float)Math.Sin(angle);
                for (var head = 0; head < heads; head++)
                {
                    var at = head * headDim + i;
                    var x0 = x[at];
                    var x1 = x[at + half];
                    x[at] = (x0 * c) - (x1 * s);
                    x[at + half] = (x1 * c) + (x0 * s);
                }
            }
        }
    }

    /// <summary>output = silu(gate) × up; <paramref name="output"/> may be either input. The GPU's expf may differ by a few ulp (see swiglu.cu).</summary>
    public static void Swiglu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        RequireLengths("swiglu", (gate.Length, output.Length), (up.Length, output.Length));
        for (var i = 0; i < output.Length; i++)
        {
            var g = gate[i];
            var silu = g / (1f + MathF.Exp(-g));
            output[i] = silu * up[i];
        }
    }

    public static void Add(Span<float> y, ReadOnlySpan<float> x)
    {
        RequireLengths("add", (x.Length, y.Length));
        for (var i = 0; i < y.Length; i++)
        {
            y[i] += x[i];
        }
    }

    /// <summary>Adds the f16 <paramref name="bias"/> to each of <paramref name="rows"/> rows of <paramref name="y"/>, one rounding per element.</summary>
    public static void BiasAddF16(Span<float> y, ReadOnlySpan<ushort> bias, int rows, int cols) =>
        BiasAdd<F16Weights>(y, bias, rows, cols);

    /// <summary>Adds the bf16 <paramref name="bias"/> to each of <paramref name="rows"/> rows of <paramref name="y"/>, one rounding per element.</summary>
    public static void BiasAddBf16(Span<float> y, ReadOnlySpan<ushort> bias, int rows, int cols) =>
        BiasAdd<Bf16Weights>(y, bias, rows, cols);

    /// <summary>Each row's largest column: NaN above every number, ties to the smallest column, 0xFFFFFFFF for no columns.</summary>
    public static void Argmax(ReadOnlySpan<float> logits, Span<uint> output, int rows, int cols)
    {
        RequireLengths("argmax", (logits.Length, (long)rows * cols), (output.Length, rows));
        for (var r = 0; r < rows; r++, logits = logits[cols..])
        {
            var best = uint.MaxValue;
            for (var c = 0; c < cols; c++)
            {
                // Columns come in increasing order, so only a strictly higher value (or a first NaN) wins.
                if (best == uint.MaxValue || (float.IsNaN(logits[c]) && !float.IsNaN(logits[(int)best])) || logits[c] > logits[(int)best])
                {
                    best = (uint)c;
                }
            }

            output[r] = best;
        }
    }

    /// <summary>The most candidates <see cref="Sample"/> considers: a top_k of 0 or above it means this many.</summary>
    public const int MaxSampleCandidates = 64;

    /// <summary>
    /// Seeded temperature, top-k and top-p sampling of each row, as sample.cu defines it. The GPU's
    /// expf may pick a neighbouring candidate where the draw lies that close to a boundary; see
    /// <see cref="SampleRow"/>'s margin.
    /// </summary>
    public static void Sample(ReadOnlySpan<float> logits, Span<uint> output, int rows, int cols, ulong seed, uint step, float temperature, uint topK, float topP)
    {
        RequireLengths("sample", (logits.Length, (long)rows * cols), (output.Length, rows));
        for (var r = 0; r < rows; r++, logits = logits[cols..])
        {
            output[r] = SampleRow(logits[..cols], (uint)r, seed, step, temperature, topK, topP, out _);
        }
    }

    /// <summary>
    /// One row of <see cref="Sample"/>. <paramref name="margin"/> is how far the draw's target lies
    /// from the nearest running sum, as a fraction of the kept mass (1 where nothing was drawn):
    /// a device may choose differently only where it is below about 2^-18.
    /// </summary>
    internal static uint SampleRow(ReadOnlySpan<float> row, uint rowIndex, ulong seed, uint step, float temperature, uint topK, float topP, out float margin)
    {
        margin = 1f;
        var k = topK == 0 || topK > MaxSampleCandidates ? MaxSampleCandidates : (int)topK;
        Span<float> v = stackalloc float[MaxSampleCandidates];
        Span<uint> columns = stackalloc uint[MaxSampleCandidates];
        var n = SampleCandidates(row, k, v, columns);
        if (n == 0)
        {
            return uint.MaxValue;
        }
        if (!(temperature > 0f) || float.IsInfinity(v[0]))
        {
            return columns[0];
        }

        Span<float> w = stackalloc float[n];
        var total = 0f;
        for (var j = 0; j < n; j++)
        {
            w[j] = MathF.Exp((v[j] - v[0]) / temperature);
            total += w[j];
        }

        var m = n;
        if (topP < 1f)
        {
            var cut = topP * total;
            var running = 0f;
            for (var j = 0; j < n; j++)
            {
                running += w[j];
                if (running >= cut)
                {
                    m = j + 1;
                    break;
                }
            }
        }

        var kept = 0f;
        for (var j = 0; j < m; j++)
        {
            kept += w[j];
        }

        var x = Mix64(seed ^ Mix64(((ulong)step << 32) | rowIndex));
        var target = (uint)(x >> 40) * (1f / (1 << 24)) * kept;
        var sum = 0f;
        var chosen = -1;
        for (var j = 0; j < m; j++)
        {
            sum += w[j];
            margin = Math.Min(margin, Math.Abs(sum - target) / kept);
            if (chosen < 0 && sum > target)
            {
                chosen = j;
            }
        }

        return columns[chosen < 0 ? m - 1 : chosen];
    }

    // The k highest values that are not NaN, from the highest down, the smaller column first among equals.
    private static int SampleCandidates(ReadOnlySpan<float> row, int k, Span<float> values, Span<uint> columns)
    {
        var n = 0;
        for (var c = 0; c < row.Length; c++)
        {
            var value = row[c];
            if (float.IsNaN(value) || (n == k && !(value > values[n - 1])))
            {
                continue;
            }

            // Insert after every kept value at least as high (equals came first, so rank above); when
            // all k are kept, the lowest is the one overwritten.
            var at = n < k ? n : k - 1;
            while (at > 0 && value > values[at - 1])
            {
                values[at] = values[at - 1];
                columns[at] = columns[at - 1];
                at--;
            }
            values[at] = value;
            columns[at] = (uint)c;
            n = Math.Min(n + 1, k);
        }

        return n;
    }

    private static void Embedding<TWeights>(ReadOnlySpan<ushort> table, ReadOnlySpan<uint> ids, Span<float> output, int vocab, int hidden)
        where TWeights : IWeights<ushort>
    {
        RequireLengths("embedding", (table.Length, (long)vocab * hidden), (output.Length, (long)ids.Length * hidden));
        for (var t = 0; t < ids.Length; t++)
        {
            var row = output.Slice(t * hidden, hidden);
            if (ids[t] >= (uint)vocab)
            {
                row.Clear();
                continue;
            }

            var source = table.Slice((int)ids[t] * hidden, hidden);
            for (var c = 0; c < hidden; c++)
            {
                row[c] = TWeights.ToSingle(source[c]);
            }
        }
    }

    private static void RmsNorm<TWeights>(ReadOnlySpan<float> x, ReadOnlySpan<ushort> w, Span<float> y, int rows, int cols, float eps)
        where TWeights : IWeights<ushort>
    {
        RequireLengths("rmsnorm", (x.Length, (long)rows * cols), (w.Length, cols), (y.Length, (long)rows * cols));
        for (var r = 0; r < rows; r++, x = x[cols..], y = y[cols..])
        {
            var row = x[..cols];
            // The sum of squares is gemv's dot product of the row with itself, in gemv's order.
            var sum = Dot<F32Weights, float>(row, row);
            var mean = sum / cols;
            var inv = 1f / MathF.Sqrt(mean + eps);
            for (var c = 0; c < cols; c++)
            {
                y[c] = row[c] * inv * TWeights.ToSingle(w[c]);
            }
        }
    }

    private static void BiasAdd<TWeights>(Span<float> y, ReadOnlySpan<ushort> bias, int rows, int cols)
        where TWeights : IWeights<ushort>
    {
        RequireLengths("bias_add", (y.Length, (long)rows * cols), (bias.Length, cols));
        for (var r = 0; r < rows; r++, y = y[cols..])
        {
            for (var c = 0; c < cols; c++)
            {
                y[c] += TWeights.ToSingle(bias[c]);
            }
        }
    }

    private static void RequireLengths(string kernel, params ReadOnlySpan<(int Actual, long Needed)> spans)
    {
        foreach (var (actual, needed) in spans)
        {
            if (actual < needed)
            {
                throw new ArgumentException($"{kernel} needs spans of {string.Join(", ", spans.ToArray().Select(s => s.Needed))} elements; got {string.Join(", ", spans.ToArray().Select(s => s.Actual))}.");
            }
        }
    }

    private static void Gemv<TWeights, T>(ReadOnlySpan<T> w, ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
        where TWeights : IWeights<T>
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (w.Length < (long)rows * cols || x.Length < cols || y.Length < rows)
        {
            throw new ArgumentException(
                $"A {rows}x{cols} gemv needs {(long)rows * cols} weights, {cols} inputs and {rows} outputs; " +
                $"got {w.Length}, {x.Length} and {y.Length}.");
        }

        x = x[..cols];
        // Each row is sliced off the front of what is left rather than found at r * cols, so no
        // index is an int product that only the length check above keeps from overflowing.
        for (var r = 0; r < rows; r++, w = w[cols..])
        {
            var row = w[..cols];
            y[r] = Dot<TWeights, T>(row, x);
        }
    }

    private static float Dot<TWeights, T>(ReadOnlySpan<T> row, ReadOnlySpan<float> x)
        where TWeights : IWeights<T>
        where T : unmanaged =>
        Vector256.IsHardwareAccelerated ? RowDotVector<TWeights, T>(row, x) : RowDotScalar<TWeights, T>(row, x);

    // The kernel's order, on one warp: lane l accumulates columns l, l + 32, ... with fused
    // multiply-adds, then the shuffle tree sums the lanes.
    private static float RowDotScalar<TWeights, T>(ReadOnlySpan<T> row, ReadOnlySpan<float> x)
        where TWeights : IWeights<T>
        where T : unmanaged
    {
        Span<float> lanes = stackalloc float[WarpSize];
        lanes.Clear();
        for (var c = 0; c < row.Length; c++)
        {
            var lane = c % WarpSize;
            lanes[lane] = MathF.FusedMultiplyAdd(TWeights.ToSingle(row[c]), x[c], lanes[lane]);
        }

        return ReduceLanes(lanes);
    }

    // RowDotScalar with the 32 lanes held in four vectors of eight.
    private static float RowDotVector<TWeights, T>(ReadOnlySpan<T> row, ReadOnlySpan<float> x)
        where TWeights : IWeights<T>
        where T : unmanaged
    {
        var lanes0 = Vector256<float>.Zero;
        var lanes8 = Vector256<float>.Zero;
        var lanes16 = Vector256<float>.Zero;
        var lanes24 = Vector256<float>.Zero;
        var c = 0;
        for (; c <= row.Length - WarpSize; c += WarpSize)
        {
            lanes0 = Vector256.FusedMultiplyAdd(TWeights.Load8(row[c..]), Vector256.Create(x[c..]), lanes0);
            lanes8 = Vector256.FusedMultiplyAdd(TWeights.Load8(row[(c + 8)..]), Vector256.Create(x[(c + 8)..]), lanes8);
            lanes16 = Vector256.FusedMultiplyAdd(TWeights.Load8(row[(c + 16)..]), Vector256.Create(x[(c + 16)..]), lanes16);
            lanes24 = Vector256.FusedMultiplyAdd(TWeights.Load8(row[(c + 24)..]), Vector256.Create(x[(c + 24)..]), lanes24);
        }

        Span<float> lanes = stackalloc float[WarpSize];
        lanes0.CopyTo(lanes);
        lanes8.CopyTo(lanes[8..]);
        lanes16.CopyTo(lanes[16..]);
        lanes24.CopyTo(lanes[24..]);
        for (var lane = 0; c + lane < row.Length; lane++)
        {
            lanes[lane] = MathF.FusedMultiplyAdd(TWeights.ToSingle(row[c + lane]), x[c + lane], lanes[lane]);
        }

        return ReduceLanes(lanes);
    }

    // Lane 0's view of the kernel's __shfl_down_sync tree with offsets 16, 8, 4, 2, 1.
    private static float ReduceLanes(Span<float> lanes)
    {
        for (var offset = WarpSize / 2; offset > 0; offset /= 2)
        {
            for (var lane = 0; lane < offset; lane++)
            {
                lanes[lane] += lanes[lane + offset];
            }
        }

        return lanes[0];
    }

    private interface IWeights<T>
        where T : unmanaged
    {
        static abstract float ToSingle(T value);

        /// <summary>The first eight elements of <paramref name="source"/>, as floats.</summary>
        static abstract Vector256<float> Load8(ReadOnlySpan<T> source);
    }

    private readonly struct F32Weights : IWeights<float>
    {
        public static float ToSingle(float value) => value;

        public static Vector256<float> Load8(ReadOnlySpan<float> source) => Vector256.Create(source);
    }

    private readonly struct F16Weights : IWeights<ushort>
    {
        // Every half converts exactly to a float; a table of all 65536 beats System.Half per element.
        private static readonly float[] Table = BuildTable();

        public static float ToSingle(ushort value) => Table[value];

        public static Vector256<float> Load8(ReadOnlySpan<ushort> source) => Vector256.Create(
            Table[source[0]], Table[source[1]], Table[source[2]], Table[source[3]],
            Table[source[4]], Table[source[5]], Table[source[6]], Table[source[7]]);

        private static float[] BuildTable()
        {
            var table = new float[ushort.MaxValue + 1];
            for (var bits = 0; bits < table.Length; bits++)
            {
                table[bits] = F16ToSingle((ushort)bits);
            }

            return table;
        }
    }

    private readonly struct Bf16Weights : IWeights<ushort>
    {
        public static float ToSingle(ushort value) => Bf16ToSingle(value);

        public static Vector256<float> Load8(ReadOnlySpan<ushort> source)
        {
            var bits = Vector128.Create(source);
            var widened = Vector256.Create(Vector128.WidenLower(bits), Vector128.WidenUpper(bits));
            return (widened << 16).AsSingle();
        }
    }
}
