using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Sim;

/// <summary>The built-in kernels as the simulated device runs them: the C# references, on device memory.</summary>
internal static class SimKernels
{
    public static IReadOnlyDictionary<string, SimKernel> Builtin { get; } = new SimKernel[]
    {
        new(KernelNames.FillF32, Fill),
        new(KernelNames.AxpyF32, Axpy),
        new(KernelNames.GemvF32, k => Gemv<float>(k, KernelReference.GemvF32)),
        new(KernelNames.GemvF16, k => Gemv<ushort>(k, KernelReference.GemvF16)),
        new(KernelNames.GemvBf16, k => Gemv<ushort>(k, KernelReference.GemvBf16)),
        new(KernelNames.Spin, Spin),
        new(KernelNames.Checksum, Checksum),
        new(KernelNames.EmbeddingF16, k => Embedding(k, KernelReference.EmbeddingF16)),
        new(KernelNames.EmbeddingBf16, k => Embedding(k, KernelReference.EmbeddingBf16)),
        new(KernelNames.RmsNormF16, k => RmsNorm(k, KernelReference.RmsNormF16)),
        new(KernelNames.RmsNormBf16, k => RmsNorm(k, KernelReference.RmsNormBf16)),
        new(KernelNames.RopeF32, Rope),
        new(KernelNames.SwigluF32, Swiglu),
        new(KernelNames.AddF32, Add),
        new(KernelNames.BiasAddF16, k => BiasAdd(k, KernelReference.BiasAddF16)),
        new(KernelNames.BiasAddBf16, k => BiasAdd(k, KernelReference.BiasAddBf16)),
        new(KernelNames.ArgmaxF32, Argmax),
        new(KernelNames.SampleF32, Sample),
        new(KernelNames.MatmulF32, k => Matmul<float>(k, KernelReference.MatmulF32)),
        new(KernelNames.MatmulF16, k => Matmul<ushort>(k, KernelReference.MatmulF16)),
        new(KernelNames.MatmulBf16, k => Matmul<ushort>(k, KernelReference.MatmulBf16)),
        new(KernelNames.AttentionPagedF32, AttentionPaged),
        new(KernelNames.KvAppendF32, KvAppend),
    }.ToDictionary(kernel => kernel.Name);

    private delegate void GemvBody<TWeight>(ReadOnlySpan<TWeight> weights, ReadOnlySpan<float> x, Span<float> y, int rows, int cols);

    private delegate void EmbeddingBody(ReadOnlySpan<ushort> table, ReadOnlySpan<uint> ids, Span<float> output, int vocab, int hidden);

    private delegate void RmsNormBody(ReadOnlySpan<float> x, ReadOnlySpan<ushort> w, Span<float> y, int rows, int cols, float eps);

    private delegate void BiasAddBody(Span<float> y, ReadOnlySpan<ushort> bias, int rows, int cols);

    private delegate void MatmulBody<TWeight>(ReadOnlySpan<TWeight> weights, ReadOnlySpan<float> x, Span<float> y, int rows, int cols, int tokens);

    private static long Fill(SimKernelInvocation k)
    {
        var count = k[2].AsUInt64();
        KernelReference.Fill(k.Write<float>(0, count), k[1].AsFloat32());
        return k.MemoryBound(count * sizeof(float));
    }

    private static long Axpy(SimKernelInvocation k)
    {
        var count = k[3].AsUInt64();
        KernelReference.Axpy(k.Write<float>(0, count), k.Read<float>(1, count), k[2].AsFloat32());
        return k.MemoryBound(3 * count * sizeof(float));
    }

    /// <summary>
    /// Waits on the device clock as spin.cu does: the wait in nanoseconds saturates at the largest
    /// the clock can count, so a wait too long to express lasts for ever (<see cref="SimClock.Forever"/>)
    /// rather than overflowing or wrapping short.
    /// </summary>
    private static long Spin(SimKernelInvocation k)
    {
        var microseconds = k[0].AsUInt64();
        var nanoseconds = microseconds > ulong.MaxValue / 1000 ? ulong.MaxValue : microseconds * 1000;
        return SimClock.Ticks(nanoseconds / 1e9);
    }

    private static unsafe long Gemv<TWeight>(SimKernelInvocation k, GemvBody<TWeight> body)
        where TWeight : unmanaged
    {
        var rows = k[3].AsUInt32();
        var cols = k[4].AsUInt32();
        var weights = k.Read<TWeight>(0, (ulong)rows * cols);
        // Each span holds at most int.MaxValue elements, so its length is the count as an int.
        var x = k.Read<float>(1, cols);
        var y = k.Write<float>(2, rows);
        body(weights, x, y, y.Length, x.Length);
        return k.MemoryBound(((ulong)rows * cols * (ulong)sizeof(TWeight)) + ((ulong)rows + cols) * sizeof(float));
    }

    private static unsafe long Checksum(SimKernelInvocation k)
    {
        // A multiple of 4 bytes, so that each chunk starts on a word boundary.
        const ulong Chunk = 1UL << 30;
        var bytes = k[1].AsUInt64();
        k.RequireAligned(0, sizeof(uint));
        var data = (byte*)k.ReadRaw(0, bytes);
        ulong sum = 0;
        for (ulong offset = 0; offset < bytes; offset += Chunk)
        {
            var length = (int)Math.Min(Chunk, bytes - offset);
            sum += KernelReference.Checksum(new ReadOnlySpan<byte>(data + offset, length), offset / sizeof(uint));
        }
        // The kernel adds into *out atomically; the caller zeroes it first.
        k.Write<ulong>(2, 1)[0] += sum;
        return k.MemoryBound(bytes);
    }

    private static long Embedding(SimKernelInvocation k, EmbeddingBody body)
    {
        var tokens = k[3].AsUInt32();
        var vocab = k[4].AsUInt32();
        var hidden = k[5].AsUInt32();
        var table = k.Read<ushort>(0, (ulong)vocab * hidden);
        var ids = k.Read<uint>(1, tokens);
        var output = k.Write<float>(2, (ulong)tokens * hidden);
        body(table, ids, output, (int)vocab, (int)hidden);
        return k.MemoryBound((ulong)tokens * (sizeof(uint) + (ulong)hidden * (sizeof(ushort) + sizeof(float))));
    }

    private static long RmsNorm(SimKernelInvocation k, RmsNormBody body)
    {
        var rows = k[3].AsUInt32();
        var cols = k[4].AsUInt32();
        var x = k.Read<float>(0, (ulong)rows * cols);
        var w = k.Read<ushort>(1, cols);
        var y = k.Write<float>(2, (ulong)rows * cols);
        body(x, w, y, (int)rows, (int)cols, k[5].AsFloat32());
        return k.MemoryBound((3UL * rows * cols * sizeof(float)) + ((ulong)cols * sizeof(ushort)));
    }

    private static long Rope(SimKernelInvocation k)
    {
        var tokens = k[2].AsUInt32();
        var width = k[3].AsUInt32();
        var x = k.Write<float>(0, (ulong)tokens * width);
        KernelReference.Rope(x, k.Read<uint>(1, tokens), (int)tokens, (int)width, (int)k[4].AsUInt32(), k[5].AsFloat32());
        return k.MemoryBound((2UL * tokens * width * sizeof(float)) + ((ulong)tokens * sizeof(uint)));
    }

    private static long Swiglu(SimKernelInvocation k)
    {
        var count = k[3].AsUInt64();
        KernelReference.Swiglu(k.Read<float>(0, count), k.Read<float>(1, count), k.Write<float>(2, count));
        return k.MemoryBound(3 * count * sizeof(float));
    }

    private static long Add(SimKernelInvocation k)
    {
        var count = k[2].AsUInt64();
        KernelReference.Add(k.Write<float>(0, count), k.Read<float>(1, count));
        return k.MemoryBound(3 * count * sizeof(float));
    }

    private static long BiasAdd(SimKernelInvocation k, BiasAddBody body)
    {
        var rows = k[2].AsUInt32();
        var cols = k[3].AsUInt32();
        body(k.Write<float>(0, (ulong)rows * cols), k.Read<ushort>(1, cols), (int)rows, (int)cols);
        return k.MemoryBound((2UL * rows * cols * sizeof(float)) + ((ulong)cols * sizeof(ushort)));
    }

    private static long Argmax(SimKernelInvocation k)
    {
        var rows = k[2].AsUInt32();
        var cols = k[3].AsUInt32();
        KernelReference.Argmax(k.Read<float>(0, (ulong)rows * cols), k.Write<uint>(1, rows), (int)rows, (int)cols);
        return k.MemoryBound(((ulong)rows * cols * sizeof(float)) + ((ulong)rows * sizeof(uint)));
    }

    private static long Sample(SimKernelInvocation k)
    {
        var rows = k[2].AsUInt32();
        var cols = k[3].AsUInt32();
        KernelReference.Sample(
            k.Read<float>(0, (ulong)rows * cols), k.Write<uint>(1, rows), (int)rows, (int)cols,
            k[4].AsUInt64(), k[5].AsUInt32(), k[6].AsFloat32(), k[7].AsUInt32(), k[8].AsFloat32());
        // One pass over the row for each candidate.
        var passes = (ulong)Math.Min(k[7].AsUInt32() - 1, KernelReference.MaxSampleCandidates - 1) + 1;
        return k.MemoryBound((passes * rows * cols * sizeof(float)) + ((ulong)rows * sizeof(uint)));
    }

    private static unsafe long Matmul<TWeight>(SimKernelInvocation k, MatmulBody<TWeight> body)
        where TWeight : unmanaged
    {
        const ulong TokenTile = 8;
        var rows = k[3].AsUInt32();
        var cols = k[4].AsUInt32();
        var tokens = k[5].AsUInt32();
        var weights = k.Read<TWeight>(0, (ulong)rows * cols);
        var x = k.Read<float>(1, (ulong)tokens * cols);
        var y = k.Write<float>(2, (ulong)tokens * rows);
        body(weights, x, y, (int)rows, (int)cols, (int)tokens);
        // The kernel reads the weights once per tile of 8 tokens.
        var tiles = ((ulong)tokens + TokenTile - 1) / TokenTile;
        return k.MemoryBound((tiles * rows * cols * (ulong)sizeof(TWeight)) + ((ulong)tokens * (rows + (ulong)cols) * sizeof(float)));
    }

    private static long AttentionPaged(SimKernelInvocation k)
    {
        var shape = new PagedAttentionShape(
            k[5].AsUInt32(), k[6].AsUInt32(), k[7].AsUInt32(), k[8].AsUInt32(), k[9].AsUInt32(), k[10].AsUInt32(), k[11].AsUInt32(), k[12].AsUInt32(), k[13].AsFloat32());
        var cache = Count(shape.CacheFloats);
        var queries = Count(shape.QueryFloats);
        KernelReference.AttentionPagedF32(
            k.Read<float>(0, queries), k.Read<float>(1, cache), k.Read<float>(2, cache), k.Read<uint>(3, shape.TablePages), k.Write<float>(4, queries), shape);
        // Each (token, head) reads its visible keys twice and their values once.
        double rows = 0;
        for (uint token = 0; token < shape.Tokens; token++)
        {
            rows += shape.PositionsSeenBy(token);
        }
        var bytes = (rows * shape.QHeads * 3 + 2.0 * shape.Tokens * shape.QHeads) * shape.HeadDim * sizeof(float);
        return k.MemoryBound((ulong)Math.Min(bytes, ulong.MaxValue));
    }

    private static long KvAppend(SimKernelInvocation k)
    {
        var shape = new KvAppendShape(k[5].AsUInt32(), k[6].AsUInt32(), k[7].AsUInt32(), k[8].AsUInt32(), k[9].AsUInt32(), k[10].AsUInt32(), k[11].AsUInt32());
        var rows = Count(shape.NewFloats);
        var cache = Count(shape.CacheFloats);
        KernelReference.KvAppendF32(
            k.Read<float>(0, rows), k.Read<float>(1, rows), k.Write<float>(2, cache), k.Write<float>(3, cache), k.Read<uint>(4, shape.TablePages), shape);
        // Each new float is read once and written once, for K and for V.
        return k.MemoryBound(4 * rows * sizeof(float));
    }

    /// <summary>A float count for a span; past what any span holds, the read refuses it as too large.</summary>
    private static ulong Count(UInt128 floats) => floats > ulong.MaxValue ? ulong.MaxValue : (ulong)floats;
}
