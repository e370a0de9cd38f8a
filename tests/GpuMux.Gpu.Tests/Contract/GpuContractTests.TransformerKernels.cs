using System.Runtime.InteropServices;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Tests.Contract;

/// <summary>
/// The built-in kernels of a Llama-family decoder against their host references: bit for bit where
/// protocol.md §4.3 fixes the arithmetic, within its stated tolerance where a cosine, sine or exp
/// may differ in the last bits between the GPU's math library and the host's.
/// </summary>
public abstract partial class GpuContractTests
{
    [Theory]
    [InlineData(WeightType.F16)]
    [InlineData(WeightType.Bf16)]
    public void Embedding_matches_the_reference_and_gives_zeros_for_ids_past_the_table(WeightType type)
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(11 + (int)type);
        const int Vocab = 1000;
        const int Hidden = 257;
        var table = KernelReference.EncodeWeights(type, TestData.Floats(random, Vocab * Hidden));
        uint[] ids = [0, 999, 1000, 17, uint.MaxValue, 17, 523];
        var expected = new float[ids.Length * Hidden];
        Reference(type, table, ids, expected);
        using var deviceTable = gpu.Upload<byte>(table);
        using var deviceIds = gpu.Upload<uint>(ids);
        using var output = gpu.Upload<float>(Enumerable.Repeat(float.NaN, expected.Length).ToArray());

        gpu.Kernels.Embedding(gpu.Stream, type, deviceTable.Pointer, deviceIds.Pointer, output.Pointer, (uint)ids.Length, Vocab, Hidden);

        var result = gpu.Download<float>(output.Pointer, expected.Length);
        Assert.Equal(expected, result);
        Assert.All(result.AsSpan(2 * Hidden, Hidden).ToArray(), value => Assert.Equal(0f, value));

        static void Reference(WeightType type, byte[] table, uint[] ids, float[] output)
        {
            var weights = MemoryMarshal.Cast<byte, ushort>(table);
            if (type == WeightType.F16)
            {
                KernelReference.EmbeddingF16(weights, ids, output, Vocab, Hidden);
            }
            else
            {
                KernelReference.EmbeddingBf16(weights, ids, output, Vocab, Hidden);
            }
        }
    }

    [Theory]
    [InlineData(WeightType.F16)]
    [InlineData(WeightType.Bf16)]
    public void RmsNorm_matches_the_reference_bit_for_bit_in_place_and_out(WeightType type)
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(12 + (int)type);
        foreach (var (rows, cols) in new[] { (1, 1), (3, 31), (17, 4096), (64, 33), (5, 1000) })
        {
            var x = TestData.Floats(random, rows * cols, 3f);
            var w = KernelReference.EncodeWeights(type, TestData.Floats(random, cols, 2f));
            var expected = new float[x.Length];
            var weights = MemoryMarshal.Cast<byte, ushort>(w);
            if (type == WeightType.F16)
            {
                KernelReference.RmsNormF16(x, weights, expected, rows, cols, 1e-5f);
            }
            else
            {
                KernelReference.RmsNormBf16(x, weights, expected, rows, cols, 1e-5f);
            }
            using var deviceX = gpu.Upload<float>(x);
            using var deviceW = gpu.Upload<byte>(w);
            using var deviceY = gpu.Context.Allocate((ulong)x.Length * sizeof(float));

            gpu.Kernels.RmsNorm(gpu.Stream, type, deviceX.Pointer, deviceW.Pointer, deviceY.Pointer, (uint)rows, (uint)cols, 1e-5f);
            Assert.Equal(expected, gpu.Download<float>(deviceY.Pointer, x.Length));

            gpu.Kernels.RmsNorm(gpu.Stream, type, deviceX.Pointer, deviceW.Pointer, deviceX.Pointer, (uint)rows, (uint)cols, 1e-5f);
            Assert.Equal(expected, gpu.Download<float>(deviceX.Pointer, x.Length));
        }
    }

    [Fact]
    public void Rope_matches_the_reference_within_its_tolerance_and_leaves_what_is_past_the_last_head()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(13);
        foreach (var (tokens, heads, headDim, spare, theta) in new[] { (1, 1, 2, 0, 10000f), (5, 32, 128, 0, 500000f), (9, 3, 64, 7, 10000f), (2, 4, 7, 3, 1e6f) })
        {
            var width = heads * headDim + spare;
            var x = TestData.Floats(random, tokens * width, 4f);
            var positions = Enumerable.Range(0, tokens).Select(t => (uint)(t * 997 % 131_072)).ToArray();
            var expected = x.ToArray();
            KernelReference.Rope(expected, positions, tokens, width, headDim, theta);
            using var deviceX = gpu.Upload<float>(x);
            using var devicePositions = gpu.Upload<uint>(positions);

            gpu.Kernels.Rope(gpu.Stream, deviceX.Pointer, devicePositions.Pointer, (uint)tokens, (uint)width, (uint)headDim, theta);

            var result = gpu.Download<float>(deviceX.Pointer, x.Length);
            var half = headDim / 2;
            for (var i = 0; i < x.Length; i++)
            {
                var inHead = i % width % headDim;
                var partner = inHead < half ? i + half : i - half;
                var bound = i % width >= heads * headDim || (headDim % 2 == 1 && inHead == headDim - 1)
                    ? 0
                    : MathF.ScaleB(Math.Abs(x[i]) + Math.Abs(x[partner]), -22);
                Assert.True(Math.Abs(result[i] - expected[i]) <= bound, $"{tokens}x{heads}x{headDim} element {i}: {result[i]} vs {expected[i]}");
            }
        }
    }

    [Fact]
    public void Swiglu_matches_the_reference_within_its_tolerance_in_place()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(14);
        foreach (var count in TestData.AwkwardCounts.Take(8))
        {
            var gate = TestData.Floats(random, count, 20f);
            var up = TestData.Floats(random, count, 5f);
            var expected = new float[count];
            KernelReference.Swiglu(gate, up, expected);
            using var deviceGate = gpu.Upload<float>(gate);
            using var deviceUp = gpu.Upload<float>(up);

            gpu.Kernels.Swiglu(gpu.Stream, deviceGate.Pointer, deviceUp.Pointer, deviceGate.Pointer, (ulong)count);

            var result = gpu.Download<float>(deviceGate.Pointer, count);
            for (var i = 0; i < count; i++)
            {
                var bound = MathF.ScaleB(Math.Abs(expected[i]), -20) + float.Epsilon;
                Assert.True(Math.Abs(result[i] - expected[i]) <= bound, $"{count} element {i}: {result[i]} vs {expected[i]}");
            }
        }
    }

    [Fact]
    public void Add_matches_the_reference_bit_for_bit_on_awkward_sizes()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(15);
        foreach (var count in TestData.AwkwardCounts)
        {
            var x = TestData.Floats(random, count, 100f);
            var y = TestData.Floats(random, count, 100f);
            using var deviceX = gpu.Upload<float>(x);
            using var deviceY = gpu.Upload<float>(y);

            gpu.Kernels.Add(gpu.Stream, deviceY.Pointer, deviceX.Pointer, (ulong)count);

            KernelReference.Add(y, x);
            Assert.Equal(y, gpu.Download<float>(deviceY.Pointer, count));
        }
    }

    [Theory]
    [InlineData(WeightType.F16)]
    [InlineData(WeightType.Bf16)]
    public void BiasAdd_matches_the_reference_bit_for_bit(WeightType type)
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(16 + (int)type);
        foreach (var (rows, cols) in new[] { (1, 1), (3, 31), (17, 896), (64, 33), (5, 1000) })
        {
            var y = TestData.Floats(random, rows * cols, 100f);
            var bias = KernelReference.EncodeWeights(type, TestData.Floats(random, cols, 2f));
            using var deviceY = gpu.Upload<float>(y);
            using var deviceBias = gpu.Upload<byte>(bias);

            gpu.Kernels.BiasAdd(gpu.Stream, type, deviceY.Pointer, deviceBias.Pointer, (uint)rows, (uint)cols);

            var values = MemoryMarshal.Cast<byte, ushort>(bias);
            if (type == WeightType.F16)
            {
                KernelReference.BiasAddF16(y, values, rows, cols);
            }
            else
            {
                KernelReference.BiasAddBf16(y, values, rows, cols);
            }
            Assert.Equal(y, gpu.Download<float>(deviceY.Pointer, y.Length));
        }
    }

    [Fact]
    public void Argmax_matches_the_reference_with_ties_and_nans()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(16);
        const int Cols = 32_003;
        var logits = TestData.Floats(random, 6 * Cols, 30f);
        var rows = logits.AsSpan();
        rows[Cols + 100] = 1000f;
        rows[Cols + 31_000] = 1000f;
        rows[(2 * Cols) + 5] = float.NaN;
        rows[(2 * Cols) + 40] = float.NaN;
        rows.Slice(3 * Cols, Cols).Fill(-0f);
        rows[(3 * Cols) + 77] = 0f;
        rows.Slice(4 * Cols, Cols).Fill(float.NegativeInfinity);
        var expected = new uint[6];
        KernelReference.Argmax(logits, expected, 6, Cols);
        using var deviceLogits = gpu.Upload<float>(logits);
        using var output = gpu.Context.Allocate(6 * sizeof(uint));

        gpu.Kernels.Argmax(gpu.Stream, deviceLogits.Pointer, output.Pointer, 6, Cols);

        Assert.Equal(expected, gpu.Download<uint>(output.Pointer, 6));
        Assert.Equal([100u, 5u, 0u, 0u], expected[1..5]);

        gpu.Kernels.Argmax(gpu.Stream, deviceLogits.Pointer, output.Pointer, 6, 0);
        Assert.Equal(Enumerable.Repeat(uint.MaxValue, 6), gpu.Download<uint>(output.Pointer, 6));
    }

    [Theory]
    [InlineData(1f, 0u, 1f)]
    [InlineData(0.7f, 40u, 0.9f)]
    [InlineData(1.3f, 5u, 1f)]
    [InlineData(0f, 50u, 0.9f)]
    public void Sample_matches_the_reference_wherever_the_draw_is_clear_of_a_boundary(float temperature, uint topK, float topP)
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(17);
        const int Rows = 70;
        const int Cols = 32_003;
        var logits = TestData.Floats(random, Rows * Cols, 8f);
        using var deviceLogits = gpu.Upload<float>(logits);
        using var output = gpu.Context.Allocate(Rows * sizeof(uint));
        var clear = 0;
        for (uint step = 0; step < 3; step++)
        {
            gpu.Kernels.Sample(gpu.Stream, deviceLogits.Pointer, output.Pointer, Rows, Cols, 0x5EED, step, temperature, topK, topP);

            var result = gpu.Download<uint>(output.Pointer, Rows);
            for (var r = 0; r < Rows; r++)
            {
                var expected = KernelReference.SampleRow(logits.AsSpan(r * Cols, Cols), (uint)r, 0x5EED, step, temperature, topK, topP, out var margin);
                if (margin >= MathF.ScaleB(1, -16))
                {
                    Assert.Equal(expected, result[r]);
                    clear++;
                }
            }
        }

        Assert.True(clear > 3 * Rows * 9 / 10, $"only {clear} of {3 * Rows} draws were clear of a boundary");
    }
}
