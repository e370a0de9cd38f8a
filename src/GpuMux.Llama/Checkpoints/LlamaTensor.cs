using GpuMux.Client.Llama;

namespace GpuMux.Llama.Checkpoints;

/// <summary>What a weight is for, which fixes how the generator draws it.</summary>
internal enum LlamaTensorRole
{
    Embedding,
    Norm,
    Projection,
}

/// <summary>One weight of a Llama checkpoint, named and shaped as Hugging Face's LlamaForCausalLM saves it (rows, then columns).</summary>
internal sealed record LlamaTensor(string Name, IReadOnlyList<long> Shape, LlamaTensorRole Role)
{
    public long Elements => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>Every weight of <paramref name="config"/> in the order Hugging Face writes them; lm_head is absent when tied.</summary>
    public static IReadOnlyList<LlamaTensor> All(LlamaConfig config)
    {
        long hidden = config.HiddenSize, intermediate = config.IntermediateSize, vocab = config.VocabSize;
        long kv = (long)config.NumKeyValueHeads * config.HeadDim;
        var tensors = new List<LlamaTensor> { new("model.embed_tokens.weight", [vocab, hidden], LlamaTensorRole.Embedding) };
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            tensors.AddRange(
            [
                new(prefix + "input_layernorm.weight", [hidden], LlamaTensorRole.Norm),
                new(prefix + "self_attn.q_proj.weight", [hidden, hidden], LlamaTensorRole.Projection),
                new(prefix + "self_attn.k_proj.weight", [kv, hidden], LlamaTensorRole.Projection),
                new(prefix + "self_attn.v_proj.weight", [kv, hidden], LlamaTensorRole.Projection),
                new(prefix + "self_attn.o_proj.weight", [hidden, hidden], LlamaTensorRole.Projection),
                new(prefix + "post_attention_layernorm.weight", [hidden], LlamaTensorRole.Norm),
                new(prefix + "mlp.gate_proj.weight", [intermediate, hidden], LlamaTensorRole.Projection),
                new(prefix + "mlp.up_proj.weight", [intermediate, hidden], LlamaTensorRole.Projection),
                new(prefix + "mlp.down_proj.weight", [hidden, intermediate], LlamaTensorRole.Projection),
            ]);
        }

        tensors.Add(new("model.norm.weight", [hidden], LlamaTensorRole.Norm));
        if (!config.TieWordEmbeddings)
        {
            tensors.Add(new("lm_head.weight", [vocab, hidden], LlamaTensorRole.Projection));
        }

        return tensors;
    }
}
