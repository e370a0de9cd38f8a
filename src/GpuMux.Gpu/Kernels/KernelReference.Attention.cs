using System.Runtime.Intrinsics;

namespace GpuMux.Gpu.Kernels;

public static partial class KernelReference
{
    /// <summary>
    /// attention_paged_f32 in the kernel's order: bit for bit but for expf, whose error on the GPU
    /// (2 ulp) and here (<see cref="MathF.Exp"/>) differ. A page table entry past the cache, a
    /// position past the table, and every position when there are no KV heads or no slots per
    /// page, are not visible; a token that sees no position gets +0.0.
    /// </summary>
    public static void AttentionPagedF32(
        ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache, ReadOnlySpan<uint> pageTable, Span<float> output, PagedAttentionShape shape)
    {
        if ((UInt128)q.Length < shape.QueryFloats || (UInt128)output.Length < shape.QueryFloats
            || (UInt128)kCache.Length < shape.CacheFloats || (UInt128)vCache.Length < shape.CacheFloats || pageTable.Length < shape.TablePages)
        {
            throw new ArgumentException(
                $"Attention of {shape} needs {shape.QueryFloats} queries and outputs, {shape.CacheFloats} floats in each cache and {shape.TablePages} table entries; " +
                $"got {q.Length}, {output.Length}, {kCache.Length}, {vCache.Length} and {pageTable.Length}.");
        }

        // Every index below is under a span's length, an int, once the check above has passed.
        var headDim = (int)shape.HeadDim;
        var items = (long)shape.Tokens * shape.QHeads;
        for (long item = 0; item < items; item++)
        {
            var token = (ulong)item / shape.QHeads;
            var g = (uint)((ulong)(item % shape.QHeads) * shape.KvHeads / shape.QHeads);
            var query = q.Slice((int)(item * headDim), headDim);
            var positions = shape.PositionsSeenBy(token);

            var max = float.NegativeInfinity;
            for (ulong position = 0; position < positions; position++)
            {
                if (TryFindRow(pageTable, position, g, shape.KvHeads, shape.HeadDim, shape.PageTokens, shape.Pages, shape.TablePages, out var row))
                {
                    var score = AttentionScore(query, kCache.Slice(row, headDim), shape.Scale);
                    if (score > max)
                    {
                        max = score;
                    }
                }
            }

            // The kernel's slices of 256 dimensions each see the same probabilities in the same
            // order, so one pass over all dimensions computes the same bits.
            var acc = output.Slice((int)(item * headDim), headDim);
            acc.Clear();
            var sum = 0f;
            var seen = false;
            for (ulong position = 0; position < positions; position++)
            {
                if (TryFindRow(pageTable, position, g, shape.KvHeads, shape.HeadDim, shape.PageTokens, shape.Pages, shape.TablePages, out var row))
                {
                    var p = MathF.Exp(AttentionScore(query, kCache.Slice(row, headDim), shape.Scale) - max);
                    sum += p;
                    seen = true;
                    var value = vCache.Slice(row, headDim);
                    for (var d = 0; d < headDim; d++)
                    {
                        acc[d] = MathF.FusedMultiplyAdd(p, value[d], acc[d]);
                    }
                }
            }
            for (var d = 0; d < headDim; d++)
            {
                acc[d] = seen ? acc[d] / sum : 0f;
            }
        }
    }

    /// <summary>
    /// kv_append_f32: copies each new token's K and V rows into its slot of the caches, skipping a
    /// token whose page the table does not name or names past the cache. Where a table maps two
    /// of the tokens to one slot, the later token's row remains (the GPU leaves either).
    /// </summary>
    public static void KvAppendF32(
        ReadOnlySpan<float> kNew, ReadOnlySpan<float> vNew, Span<float> kCache, Span<float> vCache, ReadOnlySpan<uint> pageTable, KvAppendShape shape)
    {
        if ((UInt128)kNew.Length < shape.NewFloats || (UInt128)vNew.Length < shape.NewFloats
            || (UInt128)kCache.Length < shape.CacheFloats || (UInt128)vCache.Length < shape.CacheFloats || pageTable.Length < shape.TablePages)
        {
            throw new ArgumentException(
                $"An append of {shape} needs {shape.NewFloats} new floats of each, {shape.CacheFloats} floats in each cache and {shape.TablePages} table entries; " +
                $"got {kNew.Length}, {vNew.Length}, {kCache.Length}, {vCache.Length} and {pageTable.Length}.");
        }

        // A row is all KV heads of one position: KV head 0's row, kv_heads × head_dim floats long.
        var rowFloats = (int)(shape.KvHeads * shape.HeadDim);
        for (uint token = 0; token < shape.Tokens; token++)
        {
            if (TryFindRow(pageTable, (ulong)shape.StartPosition + token, 0, shape.KvHeads, shape.HeadDim, shape.PageTokens, shape.Pages, shape.TablePages, out var row))
            {
                kNew.Slice((int)token * rowFloats, rowFloats).CopyTo(kCache.Slice(row, rowFloats));
                vNew.Slice((int)token * rowFloats, rowFloats).CopyTo(vCache.Slice(row, rowFloats));
            }
        }
    }

    // The kernels' reading of a page table: where position's row of KV head g starts in the
    // caches, or false where the position is not in them.
    private static bool TryFindRow(
        ReadOnlySpan<uint> pageTable, ulong position, uint g, uint kvHeads, uint headDim, uint pageTokens, uint pages, uint tablePages, out int row)
    {
        row = 0;
        if (kvHeads == 0 || pageTokens == 0)
        {
            return false;
        }
        var logical = position / pageTokens;
        if (logical >= tablePages || pageTable[(int)logical] >= pages)
        {
            return false;
        }
        row = (int)((((ulong)pageTable[(int)logical] * pageTokens + position % pageTokens) * kvHeads + g) * headDim);
        return true;
    }

    // The dot in gemv's lane order (the kernel's xor tree gives every lane lane 0's sum), then scaled.
    private static float AttentionScore(ReadOnlySpan<float> query, ReadOnlySpan<float> key, float scale) =>
        (Vector256.IsHardwareAccelerated ? RowDotVector<F32Weights, float>(query, key) : RowDotScalar<F32Weights, float>(query, key)) * scale;
}
