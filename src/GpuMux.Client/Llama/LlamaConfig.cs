using System.Globalization;
using System.Text.Json;

namespace GpuMux.Client.Llama;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> for <c>LlamaForCausalLM</c> that fix a checkpoint's shapes and
/// arithmetic. Qwen2 (<c>Qwen2ForCausalLM</c>: biases on the q, k and v projections) and Mistral (a sliding
/// window) read the same way.
/// </summary>
public sealed record LlamaConfig
{
    private const string Qwen2ModelType = "qwen2";

    /// <summary><c>hidden_size</c>: the width of the residual stream.</summary>
    public required int HiddenSize { get; init; }

    /// <summary><c>intermediate_size</c>: the width of the MLP's gate and up projections.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary><c>num_hidden_layers</c>: the transformer layers.</summary>
    public required int NumHiddenLayers { get; init; }

    /// <summary><c>num_attention_heads</c>: query heads.</summary>
    public required int NumAttentionHeads { get; init; }

    /// <summary><c>num_key_value_heads</c>: key/value heads (grouped-query attention); the query heads when absent.</summary>
    public required int NumKeyValueHeads { get; init; }

    /// <summary><c>vocab_size</c>: rows of the embedding and of the LM head.</summary>
    public required int VocabSize { get; init; }

    /// <summary><c>rms_norm_eps</c>, added to the mean square in RMSNorm.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>: the rotary embedding's base.</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary><c>max_position_embeddings</c>: the longest sequence the model was trained for.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary><c>torch_dtype</c>: the weights' element type.</summary>
    public LlamaDType DType { get; init; } = LlamaDType.F16;

    /// <summary><c>tie_word_embeddings</c>: the LM head is the embedding table.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>
    /// The q, k and v projections carry biases (<c>self_attn.{q,k,v}_proj.bias</c>), added after their matmuls: Qwen2's
    /// layout, which <c>config.json</c> states as <c>model_type</c> <c>qwen2</c>.
    /// </summary>
    public bool QkvBias { get; init; }

    /// <summary>The width of one attention head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Query heads that share one key/value head (repeat_kv's n_rep).</summary>
    public int QueriesPerKeyValueHead => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>One line per problem; empty when the shapes are consistent.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var (name, value) in new[]
        {
            ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize), ("num_hidden_layers", NumHiddenLayers),
            ("num_attention_heads", NumAttentionHeads), ("num_key_value_heads", NumKeyValueHeads), ("vocab_size", VocabSize),
            ("max_position_embeddings", MaxPositionEmbeddings),
        })
        {
            if (value < 1)
            {
                problems.Add($"{name} is {value}; it must be at least 1");
            }
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        if (HiddenSize % NumAttentionHeads != 0)
        {
            problems.Add($"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        }
        else if (HeadDim % 2 != 0)
        {
            problems.Add($"the head dimension {HeadDim} is odd; rotary embedding rotates pairs");
        }

        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            problems.Add($"num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}");
        }

        if (!(RmsNormEps > 0) || !(RopeTheta > 0))
        {
            problems.Add("rms_norm_eps and rope_theta must be positive");
        }

        return problems;
    }

    /// <summary>
    /// Writes the file as Hugging Face does for LlamaForCausalLM, with head_dim stated as newer versions write it; with
    /// <see cref="QkvBias"/>, as it does for Qwen2ForCausalLM, whose sliding window is there but unused.
    /// </summary>
    public void WriteJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartArray("architectures");
        json.WriteStringValue(QkvBias ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        json.WriteEndArray();
        if (!QkvBias)
        {
            json.WriteBoolean("attention_bias", false);
        }

        json.WriteNumber("attention_dropout", 0.0);
        json.WriteNumber("head_dim", HeadDim);
        json.WriteString("hidden_act", "silu");
        json.WriteNumber("hidden_size", HiddenSize);
        json.WriteNumber("initializer_range", 0.02);
        json.WriteNumber("intermediate_size", IntermediateSize);
        json.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
        if (QkvBias)
        {
            json.WriteNumber("max_window_layers", NumHiddenLayers);
        }
        else
        {
            json.WriteBoolean("mlp_bias", false);
        }

        json.WriteString("model_type", QkvBias ? Qwen2ModelType : "llama");
        json.WriteNumber("num_attention_heads", NumAttentionHeads);
        json.WriteNumber("num_hidden_layers", NumHiddenLayers);
        json.WriteNumber("num_key_value_heads", NumKeyValueHeads);
        json.WriteNumber("rms_norm_eps", RmsNormEps);
        json.WriteNull("rope_scaling");
        json.WriteNumber("rope_theta", RopeTheta);
        if (QkvBias)
        {
            json.WriteNumber("sliding_window", MaxPositionEmbeddings);
        }

        json.WriteBoolean("tie_word_embeddings", TieWordEmbeddings);
        json.WriteString("torch_dtype", DType.TorchName());
        json.WriteBoolean("use_cache", true);
        if (QkvBias)
        {
            json.WriteBoolean("use_sliding_window", false);
        }

        json.WriteNumber("vocab_size", VocabSize);
        json.WriteEndObject();
    }

    /// <summary>
    /// Reads a config.json; fields Hugging Face defaults may be absent and take its LlamaConfig
    /// defaults. A sliding window in use (Mistral's; Qwen2 states one with <c>use_sliding_window</c> false) shorter than
    /// the positions caps them, since within it attention is the same. <c>model_type</c> <c>qwen2</c> sets
    /// <see cref="QkvBias"/>; what the kernels do not compute (scaled rotary embedding, other biases) is refused.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not such a config, or asks for what the runner does not do; the message says what.</exception>
    public static LlamaConfig Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return Parse(document.RootElement, path);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a model config: {e.Message}", e);
        }
    }

    private static LlamaConfig Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: not a JSON object");
        }

        Refuse(root, path);
        var heads = Int(root, "num_attention_heads", path);
        var positions = root.TryGetProperty("max_position_embeddings", out var max) ? max.GetInt32() : 2048;
        var slides = !(root.TryGetProperty("use_sliding_window", out var useWindow) && useWindow.ValueKind == JsonValueKind.False);
        if (slides && root.TryGetProperty("sliding_window", out var window) && window.ValueKind == JsonValueKind.Number)
        {
            positions = Math.Min(positions, window.GetInt32());
        }

        var config = new LlamaConfig
        {
            HiddenSize = Int(root, "hidden_size", path),
            IntermediateSize = Int(root, "intermediate_size", path),
            NumHiddenLayers = Int(root, "num_hidden_layers", path),
            NumAttentionHeads = heads,
            NumKeyValueHeads = root.TryGetProperty("num_key_value_heads", out var kv) && kv.ValueKind == JsonValueKind.Number ? kv.GetInt32() : heads,
            VocabSize = Int(root, "vocab_size", path),
            RmsNormEps = root.TryGetProperty("rms_norm_eps", out var eps) ? eps.GetDouble() : 1e-6,
            RopeTheta = root.TryGetProperty("rope_theta", out var theta) ? theta.GetDouble() : 10000,
            MaxPositionEmbeddings = positions,
            DType = root.TryGetProperty("torch_dtype", out var dtype) ? LlamaDTypeNames.FromTorchName(dtype.GetString()) : LlamaDType.F32,
            TieWordEmbeddings = root.TryGetProperty("tie_word_embeddings", out var tie) && tie.GetBoolean(),
            QkvBias = root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == Qwen2ModelType,
        };
        if (root.TryGetProperty("head_dim", out var headDim) && headDim.ValueKind == JsonValueKind.Number && headDim.GetInt32() != config.HeadDim)
        {
            throw new InvalidDataException($"{path}: head_dim {headDim.GetInt32()} differs from hidden_size / num_attention_heads = {config.HeadDim}; such models are not supported");
        }

        var problems = config.Problems();
        return problems.Count == 0 ? config : throw new InvalidDataException($"{path}: {string.Join("; ", problems)}");
    }

    private static void Refuse(JsonElement root, string path)
    {
        if (root.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind != JsonValueKind.Null)
        {
            throw new InvalidDataException($"{path}: rope_scaling is set; the built-in rotary embedding is unscaled, so the model would compute wrongly");
        }

        foreach (var bias in (string[])["attention_bias", "mlp_bias"])
        {
            if (root.TryGetProperty(bias, out var value) && value.ValueKind == JsonValueKind.True)
            {
                // LlamaForCausalLM's attention_bias puts one on o_proj as well as on q, k and v.
                throw new InvalidDataException($"{path}: {bias} is true; the runner adds biases to the q, k and v projections only (model_type qwen2)");
            }
        }
    }

    private static int Int(JsonElement root, string name, string path) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetInt32()
            : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: \"{name}\" is missing or not a number"));
}
