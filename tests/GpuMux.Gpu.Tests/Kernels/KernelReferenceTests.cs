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
