using System.Runtime.InteropServices;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Tests.Kernels;

public sealed class KernelReferenceTests
{
    [Theory]
    [InlineData((ushort)0x3C00, 1.0f)]
    [InlineData((ushort)0xC000, -2.0f)]
    [InlineData((ushort)0x7BFF, 65504f)]
    [InlineData((ushort)0x0001, 5.9604645e-8f)]
    public void Half_precision_bits_convert_to_their_values(ushort bits, float value) =>
        Assert.Equal(value, KernelReference.F16ToSingle(bits));

    [Fact]
    public void Bfloat16_rounds_to_nearest_even_and_round_trips()
    {
        Assert.Equal((ushort)0x3F80, KernelReference.SingleToBf16(1.0f));
        // 1 + 2^-8 lies exactly between two bfloat16 values: ties go to the even one, 1.0.
        Assert.Equal((ushort)0x3F80, KernelReference.SingleToBf16(1.00390625f));
        Assert.Equal((ushort)0x3F82, KernelReference.SingleToBf16(1.01171875f));
        Assert.True(float.IsNaN(KernelReference.Bf16ToSingle(KernelReference.SingleToBf16(float.NaN))));
        for (var bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var value = KernelReference.Bf16ToSingle((ushort)bits);
            if (!float.IsNaN(value))
            {
                Assert.Equal((ushort)bits, KernelReference.SingleToBf16(value));
            }
        }
    }

    [Fact]
    public void Weights_are_encoded_little_endian_in_the_kernels_types()
    {
        float[] values = [1.0f, -2.0f];

        Assert.Equal([0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0], KernelReference.EncodeWeights(WeightType.F32, values));
        Assert.Equal([0x00, 0x3C, 0x00, 0xC0], KernelReference.EncodeWeights(WeightType.F16, values));
        Assert.Equal([0x80, 0x3F, 0x00, 0xC0], KernelReference.EncodeWeights(WeightType.Bf16, values));
    }

    [Fact]
    public void Checksum_follows_its_definition()
    {
        byte[] data = [1, 2, 3, 4, 5];
        var expected = KernelReference.Mix64(0x0403_0201) + KernelReference.Mix64((1UL << 32) | 5);

        Assert.Equal(0UL, KernelReference.Checksum([]));
        Assert.Equal(expected, KernelReference.Checksum(data));
        Assert.Equal(expected, KernelReference.Checksum([1, 2, 3, 4, 5, 0, 0, 0]));
        Assert.Equal(0xE220A8397B1DCDAFUL, KernelReference.Mix64(0x9E3779B97F4A7C15UL));
    }

    [Fact]
    public void Checksum_sees_swapped_words_and_flipped_bits()
    {
        var data = new byte[4096];
        new Random(9).NextBytes(data);
        var original = KernelReference.Checksum(data);

        var swapped = (byte[])data.Clone();
        (swapped[0], swapped[4]) = (swapped[4], swapped[0]);
        var flipped = (byte[])data.Clone();
        flipped[2049] ^= 1;

        Assert.NotEqual(original, KernelReference.Checksum(swapped));
        Assert.NotEqual(original, KernelReference.Checksum(flipped));
    }

    [Fact]
    public void Checksums_of_word_aligned_chunks_add_up_to_the_whole()
    {
        var data = new byte[10_003];
        new Random(11).NextBytes(data);

        var chunked = KernelReference.Checksum(data.AsSpan(0, 4096), 0)
            + KernelReference.Checksum(data.AsSpan(4096, 4096), 1024)
            + KernelReference.Checksum(data.AsSpan(8192), 2048);

        Assert.Equal(KernelReference.Checksum(data), chunked);
    }

    [Fact]
    public void A_gemv_with_more_weights_than_int_counts_is_refused_before_any_row_is_read()
    {
        // 65536 x 65536 is 2^32 weights: 0 in int arithmetic, so a check made in int would pass
        // and the first row past the buffer would fail with a different exception.
        const int side = 1 << 16;

        var error = Assert.Throws<ArgumentException>(() => KernelReference.GemvF32(new float[side], new float[side], new float[side], side, side));

        Assert.Contains("4294967296 weights", error.Message);
    }

    [Fact]
    public void Gemv_agrees_with_a_double_precision_product()
    {
        const int rows = 37, cols = 1003;
        var random = new Random(10);
        var weights = TestData.Floats(random, rows * cols);
        var x = TestData.Floats(random, cols);
        var y = new float[rows];

        KernelReference.GemvF32(weights, x, y, rows, cols);

        for (var r = 0; r < rows; r++)
        {
            double exact = 0, magnitude = 0;
            for (var c = 0; c < cols; c++)
            {
                exact += (double)weights[r * cols + c] * x[c];
                magnitude += Math.Abs((double)weights[r * cols + c] * x[c]);
            }
            Assert.True(Math.Abs(y[r] - exact) <= 1e-6 * magnitude + 1e-9, $"row {r}: {y[r]} vs {exact}");
        }
    }

    [Fact]
    public void Embedding_widens_the_named_rows_and_zeroes_ids_past_the_table()
    {
        ushort[] table = [0x3C00, 0xC000, 0x0001, 0x7BFF, 0x3800, 0x0000];
        var output = new float[3 * 2];

        KernelReference.EmbeddingF16(table, [2, 3, 0], output, vocab: 3, hidden: 2);
        Assert.Equal([0.5f, 0f, 0f, 0f, 1f, -2f], output);

        KernelReference.EmbeddingBf16(table, [1], output.AsSpan(0, 2), vocab: 3, hidden: 2);
        Assert.Equal(KernelReference.Bf16ToSingle(0x0001), output[0]);
        Assert.Equal(KernelReference.Bf16ToSingle(0x7BFF), output[1]);
    }

    [Fact]
    public void RmsNorm_scales_each_row_to_unit_root_mean_square_times_its_weights()
    {
        const int rows = 4, cols = 1003;
        var random = new Random(20);
        var x = TestData.Floats(random, rows * cols, 10f);
        var weights = TestData.Floats(random, cols, 2f);
        var w = MemoryMarshal.Cast<byte, ushort>(KernelReference.EncodeWeights(WeightType.Bf16, weights)).ToArray();
        var y = new float[x.Length];

        KernelReference.RmsNormBf16(x, w, y, rows, cols, 1e-6f);

        for (var r = 0; r < rows; r++)
        {
            var meanSquare = x.Skip(r * cols).Take(cols).Sum(v => (double)v * v) / cols;
            var inv = 1 / Math.Sqrt(meanSquare + 1e-6);
            for (var c = 0; c < cols; c++)
            {
                var exact = x[r * cols + c] * inv * KernelReference.Bf16ToSingle(w[c]);
                Assert.True(Math.Abs(y[r * cols + c] - exact) <= 1e-5 * (1 + Math.Abs(exact)), $"row {r} column {c}: {y[r * cols + c]} vs {exact}");
            }
        }

        KernelReference.RmsNormBf16(x, w, x, rows, cols, 1e-6f);
        Assert.Equal(y, x);
    }

    [Fact]
    public void BiasAdd_adds_the_widened_bias_to_every_row_with_one_rounding()
    {
        // 1, -2 and the smallest f16 subnormal; in bf16 the same bits are other values.
        ushort[] bias = [0x3C00, 0xC000, 0x0001];
        float[] y = [1f, 1f, 1f, 0.5f, 3f, 1e-30f];

        KernelReference.BiasAddF16(y, bias, rows: 2, cols: 3);
        Assert.Equal([2f, -1f, 1f + (float)BitConverter.UInt16BitsToHalf(0x0001), 1.5f, 1f, 1e-30f + (float)BitConverter.UInt16BitsToHalf(0x0001)], y);

        float[] z = [0f, 0f, 0f];
        KernelReference.BiasAddBf16(z, bias, rows: 1, cols: 3);
        Assert.Equal([KernelReference.Bf16ToSingle(0x3C00), KernelReference.Bf16ToSingle(0xC000), KernelReference.Bf16ToSingle(0x0001)], z);
    }

    [Fact]
    public void Rope_rotates_rotate_half_pairs_by_position_times_the_inverse_frequency()
    {
        const int headDim = 8, heads = 2, width = heads * headDim + 1;
        const float theta = 10000f;
        var random = new Random(21);
        var x = TestData.Floats(random, 2 * width);
        var y = x.ToArray();

        KernelReference.Rope(y, [0, 5], tokens: 2, width, headDim, theta);

        Assert.Equal(x[..width], y[..width]);
        Assert.Equal(x[^1], y[^1]);
        for (var head = 0; head < heads; head++)
        {
            for (var i = 0; i < headDim / 2; i++)
            {
                var at = width + head * headDim + i;
                var angle = 5 / Math.Pow(theta, 2.0 * i / headDim);
                var (x0, x1) = ((double)x[at], (double)x[at + headDim / 2]);
                Assert.Equal(x0 * Math.Cos(angle) - x1 * Math.Sin(angle), y[at], 1e-6);
                Assert.Equal(x1 * Math.Cos(angle) + x0 * Math.Sin(angle), y[at + headDim / 2], 1e-6);
            }
        }
    }

    [Fact]
    public void Swiglu_is_silu_of_the_gate_times_up()
    {
        float[] gate = [0f, 1f, -3f, 20f, -100f];
        float[] up = [5f, 2f, 0.5f, 1f, 3f];
        var output = new float[gate.Length];

        KernelReference.Swiglu(gate, up, output);

        for (var i = 0; i < gate.Length; i++)
        {
            var exact = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            Assert.True(Math.Abs(output[i] - exact) <= 1e-6 * Math.Abs(exact) + 1e-40, $"{gate[i]}: {output[i]} vs {exact}");
        }
    }

    [Fact]
    public void Argmax_ranks_nans_first_and_breaks_ties_towards_the_smallest_column()
    {
        float[] logits = [1f, 3f, 3f, -0f, 0f, -1f, float.NaN, 2f, float.NaN, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity];
        var output = new uint[4];

        KernelReference.Argmax(logits, output, rows: 4, cols: 3);
        Assert.Equal([1u, 0u, 0u, 0u], output);

        KernelReference.Argmax(logits.AsSpan(4, 6), output.AsSpan(0, 2), rows: 2, cols: 3);
        Assert.Equal([2u, 1u], output[..2]);
    }

    [Fact]
    public void Sample_draws_in_proportion_to_the_softmax_of_the_top_k()
    {
        // Weights 4 : 3 : 2 : 1 among the top 4; the fifth column is past top_k.
        float[] logits = [MathF.Log(2), MathF.Log(4), float.NaN, MathF.Log(1), MathF.Log(3), MathF.Log(0.5f)];
        var counts = new int[logits.Length];
        const int Draws = 20_000;
        var output = new uint[1];

        for (uint step = 0; step < Draws; step++)
        {
            KernelReference.Sample(logits, output, 1, logits.Length, seed: 42, step, temperature: 1f, topK: 4, topP: 1f);
            counts[output[0]]++;
        }

        Assert.Equal(0, counts[2]);
        Assert.Equal(0, counts[5]);
        double[] expected = [0.2, 0.4, 0, 0.1, 0.3, 0];
        for (var c = 0; c < logits.Length; c++)
        {
            Assert.True(Math.Abs(counts[c] / (double)Draws - expected[c]) < 0.015, $"column {c}: {counts[c]} of {Draws}");
        }
    }

    [Fact]
    public void Sample_keeps_the_smallest_prefix_reaching_top_p_and_is_greedy_without_temperature()
    {
        // Weights 1, 0.75, 0.5, 0.25 of a total of 2.5.
        float[] logits = [0f, MathF.Log(0.75f), MathF.Log(0.5f), MathF.Log(0.25f)];
        var seen = new HashSet<uint>[3] { [], [], [] };
        var output = new uint[1];
        for (uint step = 0; step < 2000; step++)
        {
            KernelReference.Sample(logits, output, 1, 4, 7, step, 1f, 0, 0.35f);
            seen[0].Add(output[0]);
            KernelReference.Sample(logits, output, 1, 4, 7, step, 1f, 0, 0.6f);
            seen[1].Add(output[0]);
            KernelReference.Sample(logits, output, 1, 4, 7, step, 0f, 0, 1f);
            seen[2].Add(output[0]);
        }

        Assert.Equal([0u], seen[0]);
        Assert.Equal([0u, 1u], seen[1].Order());
        Assert.Equal([0u], seen[2]);
    }

    [Fact]
    public void Sample_depends_on_seed_step_and_row_and_gives_no_column_for_a_row_of_nans()
    {
        var logits = new float[3 * 100];
        var output = new uint[3];
        var draws = new HashSet<(uint, uint)>();
        for (uint step = 0; step < 50; step++)
        {
            KernelReference.Sample(logits, output, 3, 100, 1, step, 1f, 0, 1f);
            draws.Add((output[0], output[1]));
        }
        Assert.True(draws.Count > 40, $"{draws.Count} distinct pairs of draws in 50 steps");

        logits.AsSpan(100, 100).Fill(float.NaN);
        KernelReference.Sample(logits, output, 3, 100, 1, 0, 1f, 0, 1f);
        Assert.Equal(uint.MaxValue, output[1]);
        KernelReference.Sample(logits, output, 3, 0, 1, 0, 1f, 0, 1f);
        Assert.Equal(Enumerable.Repeat(uint.MaxValue, 3), output);
    }

    [Theory]
    [InlineData(WeightType.F16)]
    [InlineData(WeightType.Bf16)]
    public void Matmul_is_each_token_s_gemv_and_agrees_with_a_double_precision_product(WeightType type)
    {
        const int rows = 29, cols = 517, tokens = 11;
        var random = new Random(12);
        var weights = TestData.Floats(random, rows * cols);
        var encoded = KernelReference.EncodeWeights(type, weights);
        var x = TestData.Floats(random, tokens * cols);
        var y = new float[tokens * rows];

        KernelReference.Matmul(type, encoded, x, y, rows, cols, tokens);

        for (var t = 0; t < tokens; t++)
        {
            var gemv = new float[rows];
            KernelReference.Gemv(type, encoded, x.AsSpan(t * cols, cols), gemv, rows, cols);
            Assert.Equal(gemv, y.AsSpan(t * rows, rows).ToArray());
            for (var r = 0; r < rows; r++)
            {
                double exact = 0, magnitude = 0;
                for (var c = 0; c < cols; c++)
                {
                    // The weight as the kernel widens it: the encoded value, not the float it came from.
                    var w = type == WeightType.F16
                        ? KernelReference.F16ToSingle(BitConverter.ToUInt16(encoded, 2 * (r * cols + c)))
                        : KernelReference.Bf16ToSingle(BitConverter.ToUInt16(encoded, 2 * (r * cols + c)));
                    exact += (double)w * x[t * cols + c];
                    magnitude += Math.Abs((double)w * x[t * cols + c]);
                }
                Assert.True(Math.Abs(y[t * rows + r] - exact) <= 1e-6 * magnitude + 1e-9, $"token {t} row {r}: {y[t * rows + r]} vs {exact}");
            }
        }
    }

    [Fact]
    public void A_matmul_with_too_few_outputs_for_its_tokens_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => KernelReference.MatmulF32(new float[6], new float[9], new float[5], 2, 3, 3));

        Assert.Contains("needs 9 inputs and 6 outputs", error.Message);
    }

    [Fact]
    public void A_footprint_of_four_counts_multiplies_them_and_saturates_past_128_bits()
    {
        var cache = new PointerFootprint(1, sizeof(float), sizeof(float), FirstCount: 9, SecondCount: 10, ThirdCount: 7, FourthCount: 8);

        Assert.Equal((UInt128)4 * 3 * 16 * 2 * 64, cache.Bytes(3, 16, 2, 64));
        Assert.Equal(UInt128.MaxValue, cache.Bytes(uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue));
        Assert.Equal((UInt128)4, new PointerFootprint(0, sizeof(float), sizeof(float)).Bytes(5, 6, 7, 8));
    }

    [Theory]
    [InlineData(5u, 0u, 4u, 4u)] // a prefill of 5 tokens, multi-head
    [InlineData(1u, 37u, 8u, 2u)] // a decode step at position 37, four query heads per KV head
    [InlineData(6u, 11u, 4u, 1u)] // a chunk of a prompt after 11 positions, one KV head for all
    public void Paged_attention_agrees_with_attention_over_a_contiguous_cache_in_doubles(uint tokens, uint start, uint qHeads, uint kvHeads)
    {
        const uint headDim = 40, pageTokens = 4;
        var positions = (int)(start + tokens);
        var tablePages = (uint)(positions + pageTokens - 1) / pageTokens;
        var shape = new PagedAttentionShape(tokens, qHeads, kvHeads, headDim, pageTokens, tablePages + 3, tablePages, start, 1 / MathF.Sqrt(headDim));
        var attention = new PagedAttentionCase(new Random(13 + (int)start), shape, positions, sparePages: 3);

        PagedAttentionCase.AssertClose(attention.Exact(_ => true), attention.Reference(), $"{tokens} tokens from {start}");
    }

    [Fact]
    public void Paged_attention_skips_table_entries_past_the_cache_and_positions_past_the_table()
    {
        const uint pageTokens = 4;
        // Position 9 sees 10 positions, but the table names only three pages (12 positions) and its
        // second entry points past the cache: positions 4-7 drop out of every softmax.
        var shape = new PagedAttentionShape(3, 2, 1, 8, pageTokens, Pages: 5, TablePages: 3, StartPosition: 9, Scale: 0.5f);
        var attention = new PagedAttentionCase(new Random(14), shape, positions: 12, sparePages: 2);
        attention.PageTable[1] = uint.MaxValue;

        PagedAttentionCase.AssertClose(attention.Exact(position => position / pageTokens != 1), attention.Reference(), "a table with a bad entry");

        // A table of no pages leaves every token seeing nothing: +0.0 rather than 0/0.
        var empty = new float[(int)shape.QueryFloats];
        KernelReference.AttentionPagedF32(attention.Queries, attention.KCache, attention.VCache, [], empty, shape with { TablePages = 0 });
        Assert.All(empty, value => Assert.Equal(0f, value));
    }

    [Fact]
    public void Kv_append_of_a_prefill_then_a_decode_step_fills_exactly_the_pages_the_table_names()
    {
        var shape = new PagedAttentionShape(1, 4, 2, 24, PageTokens: 4, Pages: 8, TablePages: 5, StartPosition: 17, Scale: 1);
        var attention = new PagedAttentionCase(new Random(15), shape, positions: 18, sparePages: 3);
        var kCache = Enumerable.Repeat(float.NaN, attention.KCache.Length).ToArray();
        var vCache = Enumerable.Repeat(float.NaN, attention.VCache.Length).ToArray();

        KernelReference.KvAppendF32(attention.Rows(attention.Keys, 0, 17), attention.Rows(attention.Values, 0, 17), kCache, vCache, attention.PageTable, attention.Append(0, 17));
        KernelReference.KvAppendF32(attention.Rows(attention.Keys, 17, 1), attention.Rows(attention.Values, 17, 1), kCache, vCache, attention.PageTable, attention.Append(17, 1));

        Assert.Equal(attention.KCache, kCache);
        Assert.Equal(attention.VCache, vCache);
    }

    [Fact]
    public void Kv_append_skips_tokens_whose_page_the_table_does_not_name_or_names_past_the_cache()
    {
        var shape = new PagedAttentionShape(1, 2, 2, 8, PageTokens: 4, Pages: 4, TablePages: 2, StartPosition: 0, Scale: 1);
        var attention = new PagedAttentionCase(new Random(16), shape, positions: 8, sparePages: 2);
        var kCache = Enumerable.Repeat(float.NaN, attention.KCache.Length).ToArray();
        var vCache = (float[])kCache.Clone();
        var keys = TestData.Floats(new Random(17), 12 * 2 * 8);
        uint[] table = [attention.PageTable[0], 4];

        // Positions 4-7 are on a page past the cache, 8-11 past the table: only 0-3 are stored.
        KernelReference.KvAppendF32(keys, keys, kCache, vCache, table, attention.Append(0, 12));

        var row = 2 * 8;
        var stored = kCache.Select((value, i) => (value, i)).Where(e => !float.IsNaN(e.value)).ToArray();
        Assert.Equal(4 * row, stored.Length);
        Assert.Equal(keys[..(4 * row)], kCache.AsSpan((int)(table[0] * 4) * row, 4 * row).ToArray());
        Assert.Equal(kCache, vCache);
    }
}
