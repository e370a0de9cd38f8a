using GpuMux.Client.Llama;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Llama.Reference;

/// <summary>One transformer layer's weights in f32, each matrix row-major as [out, in]; the q/k/v biases null where the model has none.</summary>
internal sealed record LlamaLayerWeights(
    float[] InputNorm,
    float[] Q,
    float[] K,
    float[] V,
    float[] O,
    float[] PostAttentionNorm,
    float[] Gate,
    float[] Up,
    float[] Down,
    float[]? QBias,
    float[]? KBias,
    float[]? VBias);

/// <summary>A whole model's weights widened to f32: four bytes per parameter, so for test-sized models.</summary>
internal sealed record LlamaWeights(LlamaConfig Config, float[] Embedding, IReadOnlyList<LlamaLayerWeights> Layers, float[] Norm, float[] LmHead)
{
    public static LlamaWeights Load(string directory)
    {
        var reader = CheckpointReader.Open(directory);
        var config = reader.Config;
        var tensors = LlamaTensor.All(config).ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        float[] Read(string name) => reader.ReadF32(tensors[name]);
        float[]? ReadBias(string name) => config.QkvBias ? Read(name) : null;

        var layers = Enumerable.Range(0, config.NumHiddenLayers).Select(layer =>
        {
            var prefix = $"model.layers.{layer}.";
            return new LlamaLayerWeights(
                Read(prefix + "input_layernorm.weight"),
                Read(prefix + "self_attn.q_proj.weight"),
                Read(prefix + "self_attn.k_proj.weight"),
                Read(prefix + "self_attn.v_proj.weight"),
                Read(prefix + "self_attn.o_proj.weight"),
                Read(prefix + "post_attention_layernorm.weight"),
                Read(prefix + "mlp.gate_proj.weight"),
                Read(prefix + "mlp.up_proj.weight"),
                Read(prefix + "mlp.down_proj.weight"),
                ReadBias(prefix + "self_attn.q_proj.bias"),
                ReadBias(prefix + "self_attn.k_proj.bias"),
                ReadBias(prefix + "self_attn.v_proj.bias"));
        }).ToArray();
        var embedding = Read("model.embed_tokens.weight");
        return new LlamaWeights(config, embedding, layers, Read("model.norm.weight"), config.TieWordEmbeddings ? embedding : Read("lm_head.weight"));
    }
}
