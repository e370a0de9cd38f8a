namespace GpuMux.Gpu.Kernels;

/// <summary>
/// The scalar arguments of attention_paged_f32, in its order: one sequence's <see cref="Tokens"/>
/// query tokens from position <see cref="StartPosition"/>, over a cache of <see cref="Pages"/> pages
/// of <see cref="PageTokens"/> slots, of which the page table's <see cref="TablePages"/> entries
/// name the sequence's.
/// </summary>
public readonly record struct PagedAttentionShape(
    uint Tokens, uint QHeads, uint KvHeads, uint HeadDim, uint PageTokens, uint Pages, uint TablePages, uint StartPosition, float Scale)
{
    /// <summary>Floats in the queries, and in the output: tokens × query heads × dimensions.</summary>
    public UInt128 QueryFloats => (UInt128)Tokens * QHeads * HeadDim;

    /// <summary>Floats in each of the K and V caches: pages × slots × KV heads × dimensions.</summary>
    public UInt128 CacheFloats => (UInt128)Pages * PageTokens * KvHeads * HeadDim;

    /// <summary>The positions query token <paramref name="token"/> can see: its own and those before it, up to the end of the table.</summary>
    public ulong PositionsSeenBy(ulong token) => Math.Min(StartPosition + token + 1, (ulong)TablePages * PageTokens);
}
