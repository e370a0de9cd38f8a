using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Tests.Kernels;

/// <summary>
/// One sequence's keys and values, laid out contiguously by position and scattered into the pages
/// of a paged cache through a shuffled page table, with the plain attention over them computed in
/// doubles: what the paged kernel and its reference must agree with.
/// </summary>
internal sealed class PagedAttentionCase
{
    public PagedAttentionCase(Random random, PagedAttentionShape shape, int positions, int sparePages)
    {
        Shape = shape;
        var rowFloats = (int)(shape.KvHeads * shape.HeadDim);
        Keys = TestData.Floats(random, positions * rowFloats);
        Values = TestData.Floats(random, positions * rowFloats);
        Queries = TestData.Floats(random, (int)shape.QueryFloats);

        // Pages in a shuffled order, with spare pages nobody's table names left as NaN, so that a
        // read of one poisons the result.
        var pageOrder = Enumerable.Range(0, (int)shape.Pages).ToArray();
        random.Shuffle(pageOrder);
        PageTable = pageOrder.Take((int)shape.TablePages).Select(p => (uint)p).ToArray();
        Assert.True(shape.Pages >= shape.TablePages + sparePages);
        KCache = Enumerable.Repeat(float.NaN, (int)shape.CacheFloats).ToArray();
        VCache = Enumerable.Repeat(float.NaN, (int)shape.CacheFloats).ToArray();
        for (var position = 0; position < positions; position++)
        {
            var page = PageTable[position / (int)shape.PageTokens];
            var row = (int)(page * shape.PageTokens + (uint)(position % (int)shape.PageTokens)) * rowFloats;
            Keys.AsSpan(position * rowFloats, rowFloats).CopyTo(KCache.AsSpan(row));
            Values.AsSpan(position * rowFloats, rowFloats).CopyTo(VCache.AsSpan(row));
        }
    }

    public PagedAttentionShape Shape { get; }

    public float[] Queries { get; }

    public float[] Keys { get; }

    public float[] Values { get; }

    public uint[] PageTable { get; }

    public float[] KCache { get; }

    public float[] VCache { get; }

    /// <summary>The positions from <paramref name="start"/>, as kv_append_f32 takes them.</summary>
    public KvAppendShape Append(uint start, uint tokens) =>
        new(tokens, Shape.KvHeads, Shape.HeadDim, Shape.PageTokens, Shape.Pages, Shape.TablePages, start);

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="tokens"/> of the keys or values.</summary>
    public float[] Rows(float[] rows, uint start, uint tokens)
    {
        var rowFloats = (int)(Shape.KvHeads * Shape.HeadDim);
        return rows.AsSpan((int)start * rowFloats, (int)tokens * rowFloats).ToArray();
    }

    public float[] Reference()
    {
        var output = new float[(int)Shape.QueryFloats];
        KernelReference.AttentionPagedF32(Queries, KCache, VCache, PageTable, output, Shape);
        return output;
    }

    /// <summary>Attention over the contiguous keys and values of the positions <paramref name="visible"/> keeps, in doubles.</summary>
    public double[] Exact(Func<int, bool> visible)
    {
        var (tokens, qHeads, kvHeads, headDim) = ((int)Shape.Tokens, (int)Shape.QHeads, (int)Shape.KvHeads, (int)Shape.HeadDim);
        var output = new double[tokens * qHeads * headDim];
        for (var t = 0; t < tokens; t++)
        {
            for (var h = 0; h < qHeads; h++)
            {
                var g = h / (qHeads / kvHeads);
                var seen = Enumerable.Range(0, (int)Shape.StartPosition + t + 1).Where(visible).ToArray();
                var scores = seen.Select(position => Shape.Scale * Enumerable.Range(0, headDim)
                    .Sum(d => (double)Queries[((t * qHeads) + h) * headDim + d] * Keys[((position * kvHeads) + g) * headDim + d])).ToArray();
                var max = scores.DefaultIfEmpty(0).Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                var sum = weights.Sum();
                for (var d = 0; d < headDim; d++)
                {
                    var value = 0.0;
                    for (var j = 0; j < seen.Length; j++)
                    {
                        value += weights[j] * Values[((seen[j] * kvHeads) + g) * headDim + d];
                    }
                    output[((t * qHeads) + h) * headDim + d] = seen.Length == 0 ? 0 : value / sum;
                }
            }
        }
        return output;
    }

    /// <summary>
    /// The stated tolerance of the kernel against the exact result, and of the GPU against the
    /// reference: 1e-5 of the largest |value| (1 here, the values being drawn from (-1, 1)).
    /// </summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"{what}: element {i} is {actual[i]}, not {expected[i]}");
        }
    }
}
