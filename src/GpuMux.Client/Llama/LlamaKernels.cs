namespace GpuMux.Client.Llama;

/// <summary>The built-in kernels a Llama forward pass launches, found once; the typed ones by the weights' element type.</summary>
internal sealed class LlamaKernels
{
    private readonly Dictionary<string, KernelFunction> _byName;

    private LlamaKernels(Dictionary<string, KernelFunction> byName) => _byName = byName;

    public KernelFunction RmsNorm(LlamaDType type) => Typed("rmsnorm", type);

    /// <summary>Found only for a model with biases, so that a daemon without the kernel still runs the others.</summary>
    public KernelFunction BiasAdd(LlamaDType type) => Typed("bias_add", type);

    public KernelFunction Embedding(LlamaDType type) => Typed("embedding", type);

    public KernelFunction Matmul(LlamaDType type) => Typed("matmul", type);

    public KernelFunction Rope => _byName["rope_f32"];

    public KernelFunction SwiGlu => _byName["swiglu_f32"];

    public KernelFunction Add => _byName["add_f32"];

    public KernelFunction ArgMax => _byName["argmax_f32"];

    public KernelFunction Sample => _byName["sample_f32"];

    public KernelFunction Attention => _byName["attention_paged_f32"];

    public KernelFunction KvAppend => _byName["kv_append_f32"];

    public static async Task<LlamaKernels> FindAsync(GpuMuxClient client, LlamaConfig config, CancellationToken cancellationToken)
    {
        string[] always =
        [
            "rmsnorm_f16", "rmsnorm_bf16", "embedding_f16", "embedding_bf16", "matmul_f16", "matmul_bf16",
            "rope_f32", "swiglu_f32", "add_f32", "argmax_f32", "sample_f32", "attention_paged_f32", "kv_append_f32",
        ];
        string[] names = config.QkvBias ? [.. always, "bias_add_f16", "bias_add_bf16"] : always;
        var byName = new Dictionary<string, KernelFunction>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            byName[name] = await client.GetBuiltinAsync(name, cancellationToken).ConfigureAwait(false);
        }

        return new LlamaKernels(byName);
    }

    private KernelFunction Typed(string stem, LlamaDType type) => _byName[type == LlamaDType.BF16 ? stem + "_bf16" : stem + "_f16"];
}
