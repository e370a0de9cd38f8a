namespace GpuMux.Gpu.Kernels;

/// <summary>
/// The scalar arguments of kv_append_f32, in its order: one sequence's <see cref="Tokens"/> new
/// rows from position <see cref="StartPosition"/>, into a cache laid out as attention_paged_f32's.
/// </summary>
public readonly record struct KvAppendShape(uint Tokens, uint KvHeads, uint HeadDim, uint PageTokens, uint Pages, uint TablePages, uint StartPosition)
{
    /// <summary>Floats in each of the new K and V rows: tokens × KV heads × dimensions.</summary>
    public UInt128 NewFloats => (UInt128)Tokens * KvHeads * HeadDim;

    /// <summary>Floats in each of the K and V caches: pages × slots × KV heads × dimensions.</summary>
    public UInt128 CacheFloats => (UInt128)Pages * PageTokens * KvHeads * HeadDim;
}
