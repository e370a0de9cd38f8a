using GpuMux.Client.Llama;

namespace GpuMux.Llama.Checkpoints;

/// <summary>
/// Named model shapes for the generator. The published ones take their config.json values from the Hugging Face
/// repositories Qwen/Qwen2-0.5B, Qwen/Qwen2-1.5B, meta-llama/Llama-2-7b-hf and meta-llama/Meta-Llama-3-8B; the Qwen2
/// ones carry its q/k/v biases and say model_type qwen2.
/// </summary>
internal static class LlamaShapes
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "0.5b", "1.5b", "7b", "8b"];

    /// <summary>Small enough for a test to run the CPU reference over in milliseconds, yet with grouped-query heads.</summary>
    public static LlamaConfig Tiny { get; } = new()
    {
        HiddenSize = 64,
        IntermediateSize = 160,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        VocabSize = 256,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        MaxPositionEmbeddings = 512,
    };

    public static LlamaConfig? Find(string name) => name switch
    {
        "tiny" => Tiny,
        "0.5b" => Qwen2(hidden: 896, intermediate: 4864, layers: 24, heads: 14),
        "1.5b" => Qwen2(hidden: 1536, intermediate: 8960, layers: 28, heads: 12),
        "7b" => new LlamaConfig
        {
            HiddenSize = 4096,
            IntermediateSize = 11008,
            NumHiddenLayers = 32,
            NumAttentionHeads = 32,
            NumKeyValueHeads = 32,
            VocabSize = 32000,
            RmsNormEps = 1e-5,
            RopeTheta = 10000,
            MaxPositionEmbeddings = 4096,
        },
        "8b" => new LlamaConfig
        {
            HiddenSize = 4096,
            IntermediateSize = 14336,
            NumHiddenLayers = 32,
            NumAttentionHeads = 32,
            NumKeyValueHeads = 8,
            VocabSize = 128256,
            RmsNormEps = 1e-5,
            RopeTheta = 500000,
            MaxPositionEmbeddings = 8192,
            DType = LlamaDType.BF16,
        },
        _ => null,
    };

    private static LlamaConfig Qwen2(int hidden, int intermediate, int layers, int heads) => new()
    {
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = 2,
        VocabSize = 151936,
        RmsNormEps = 1e-6,
        RopeTheta = 1000000,
        MaxPositionEmbeddings = 131072,
        DType = LlamaDType.BF16,
        TieWordEmbeddings = true,
        QkvBias = true,
    };
}
