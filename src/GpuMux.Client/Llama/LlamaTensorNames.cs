namespace GpuMux.Client.Llama;

/// <summary>The names Hugging Face's LlamaForCausalLM gives its weights in a checkpoint.</summary>
public static class LlamaTensorNames
{
    /// <summary>The embedding table, vocab × hidden; the LM head too when the embeddings are tied.</summary>
    public const string Embedding = "model.embed_tokens.weight";

    /// <summary>The final RMSNorm's weight.</summary>
    public const string FinalNorm = "model.norm.weight";

    /// <summary>The LM head, vocab × hidden; absent when the embeddings are tied.</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>The weights of one layer, by the part of the name after <c>model.layers.N.</c>, in the order the checkpoint writes them.</summary>
    public static IReadOnlyList<string> LayerParts { get; } =
    [
        "input_layernorm.weight",
        "self_attn.q_proj.weight",
        "self_attn.k_proj.weight",
        "self_attn.v_proj.weight",
        "self_attn.o_proj.weight",
        "post_attention_layernorm.weight",
        "mlp.gate_proj.weight",
        "mlp.up_proj.weight",
        "mlp.down_proj.weight",
    ];

    /// <summary>The biases of a layer's q, k and v projections where <see cref="LlamaConfig.QkvBias"/> is set, named as <see cref="LayerParts"/>.</summary>
    public static IReadOnlyList<string> QkvBiasParts { get; } =
    [
        "self_attn.q_proj.bias",
        "self_attn.k_proj.bias",
        "self_attn.v_proj.bias",
    ];

    /// <summary>The full name of <paramref name="part"/> (one of <see cref="LayerParts"/> or <see cref="QkvBiasParts"/>) in layer <paramref name="layer"/>.</summary>
    public static string Layer(int layer, string part) => $"model.layers.{layer}.{part}";
}
