namespace GpuMux.Gpu.Kernels;

/// <summary>Entry points of the built-in kernels in native/kernels, as the CUDA sources spell them.</summary>
public static class KernelNames
{
    public const string FillF32 = "fill_f32";
    public const string AxpyF32 = "axpy_f32";
    public const string GemvF32 = "gemv_f32";
    public const string GemvF16 = "gemv_f16";
    public const string GemvBf16 = "gemv_bf16";
    public const string Spin = "spin";
    public const string Checksum = "checksum";
    public const string EmbeddingF16 = "embedding_f16";
    public const string EmbeddingBf16 = "embedding_bf16";
    public const string RmsNormF16 = "rmsnorm_f16";
    public const string RmsNormBf16 = "rmsnorm_bf16";
    public const string RopeF32 = "rope_f32";
    public const string SwigluF32 = "swiglu_f32";
    public const string AddF32 = "add_f32";
    public const string BiasAddF16 = "bias_add_f16";
    public const string BiasAddBf16 = "bias_add_bf16";
    public const string ArgmaxF32 = "argmax_f32";
    public const string SampleF32 = "sample_f32";

    public const string MatmulF32 = "matmul_f32";
    public const string MatmulF16 = "matmul_f16";
    public const string MatmulBf16 = "matmul_bf16";
    public const string AttentionPagedF32 = "attention_paged_f32";
    public const string KvAppendF32 = "kv_append_f32";
}
