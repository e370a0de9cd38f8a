using GpuMux.Client.Llama;

namespace GpuMux.Llama.Checkpoints;

/// <summary>What a weight is for, which fixes how the generator draws it.</summary>
internal enum LlamaTensorRole
{
    Embedding,
    Norm,
    Projection,
    Bias,
}

/// <summary>One weight of a Llama checkpoint, named and shaped as Hugging Face's LlamaForCausalLM saves it (rows, then columns).</summary>
internal sealed record LlamaTensor(string Name, IReadOnlyList<long> Shape, LlamaTensorRole Role)
{
    public long Elements => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>Every weight of <paramref name="config"/> in the order Hugging Face writes them; lm_head is absent when tied, q/k/v biases present with <see cref="LlamaConfig.QkvBias"/>.</summary>
    public static IReadOnlyList<LlamaTensor> All(LlamaConfig config)
    {
        long hidden = config.HiddenSize, intermediate = config.IntermediateSize, vocab = config.VocabSize;
        long kv = (long)config.NumKeyValueHeads * config.HeadDim;
        var tensors = new List<LlamaTensor> { new("model.embed_tokens.weight", [vocab, hidden], LlamaTensorRole.Embedding) };
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            tensors.Add(new(prefix + "input_layernorm.weight", [hidden], LlamaTensorRole.Norm));
            foreach (var (projection, rows) in new[] { ("q_proj", hidden), ("k_proj", kv), ("v_proj", kv) })
            {
                tensors.Add(new($"{prefix}self_attn.{projection}.weight", [rows, hidden], LlamaTensorRole.Projection));
                if (config.QkvBias)
                {
                    tensors.Add(new($"{prefix}self_attn.{projection}.bias", [rows], LlamaTensorRole.Bias));
                }
            }

            tensors.AddRange(
            [
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
