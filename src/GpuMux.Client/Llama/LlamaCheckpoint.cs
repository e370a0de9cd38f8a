using System.Text.Json;

namespace GpuMux.Client.Llama;

/// <summary>
/// A model directory in the Hugging Face layout: <c>config.json</c> and the weights, in one
/// <c>model.safetensors</c> or sharded with <c>model.safetensors.index.json</c>. It checks that every
/// weight the config calls for is there with its shape and a type the built-in kernels take.
/// </summary>
public sealed class LlamaCheckpoint
{
    private const string IndexFile = "model.safetensors.index.json";

    private LlamaCheckpoint(string directory, LlamaConfig config, IReadOnlyList<string> files, IReadOnlyList<long> dataStarts, IReadOnlyList<CheckpointTensor> tensors)
    {
        DataStarts = dataStarts;
        Directory = directory;
        Config = config;
        Files = files;
        Tensors = tensors;
        ByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>Its <c>config.json</c>.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The safetensors files, in the order the weights are registered.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Every tensor, by file and then by place in its file: the order the daemon stages them in.</summary>
    public IReadOnlyList<CheckpointTensor> Tensors { get; }

    internal IReadOnlyDictionary<string, CheckpointTensor> ByName { get; }

    /// <summary>Where each file's data section begins.</summary>
    internal IReadOnlyList<long> DataStarts { get; }

    /// <summary>Reads and checks the directory.</summary>
    /// <exception cref="InvalidDataException">A file is missing or malformed, or a weight is missing, misshapen or of a type the kernels do not take; the message says which.</exception>
    public static LlamaCheckpoint Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
        {
            throw new InvalidDataException($"{directory}: no config.json; a model directory holds config.json and its safetensors weights");
        }

        var config = LlamaConfig.Read(configPath);
        var files = WeightFiles(directory);
        var tensors = new List<CheckpointTensor>();
        var dataStarts = new long[files.Count];
        for (var i = 0; i < files.Count; i++)
        {
            (var found, dataStarts[i]) = SafetensorsHeaderReader.Read(files[i], i);
            tensors.AddRange(found.OrderBy(t => t.Begin));
        }

        var checkpoint = new LlamaCheckpoint(directory, config, files, dataStarts, tensors);
        checkpoint.CheckWeights();
        return checkpoint;
    }

    /// <summary>
    /// How many tensors, in registration order, each layer group holds: one group per run of a
    /// layer's tensors, and one per run of the others, so that the first layers compute while the
    /// later ones still load.
    /// </summary>
    public IReadOnlyList<uint> LayerGroups()
    {
        var groups = new List<uint>();
        int? current = null;
        foreach (var tensor in Tensors)
        {
            var key = (tensor.File << 20) ^ tensor.Layer;
            if (key == current)
            {
                groups[^1]++;
            }
            else
            {
                groups.Add(1);
                current = key;
            }
        }

        return groups;
    }

    /// <summary>The weight's element type, for the kernel that reads it.</summary>
    internal LlamaDType TypeOf(string name) => ByName[name].DType switch
    {
        "F16" => LlamaDType.F16,
        "BF16" => LlamaDType.BF16,
        _ => LlamaDType.F32,
    };

    private static List<string> WeightFiles(string directory)
    {
        var index = Path.Combine(directory, IndexFile);
        if (File.Exists(index))
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{index}: no \"weight_map\" object");
            }

            var shards = map.EnumerateObject().Select(p => p.Value.GetString() ?? "").Distinct().Order(StringComparer.Ordinal).ToList();
            foreach (var shard in shards)
            {
                if (shard.Length == 0 || Path.GetFileName(shard) != shard)
                {
                    throw new InvalidDataException($"{index}: '{shard}' is not a file name in the model's directory");
                }
            }

            return [.. shards.Select(shard => Path.Combine(directory, shard))];
        }

        var single = Path.Combine(directory, "model.safetensors");
        return File.Exists(single)
            ? [single]
            : throw new InvalidDataException($"{directory}: neither model.safetensors nor {IndexFile}");
    }

    private void CheckWeights()
    {
        var biases = Config.QkvBias
            ? Enumerable.Range(0, Config.NumHiddenLayers).SelectMany(layer => LlamaTensorNames.QkvBiasParts.Select(part => LlamaTensorNames.Layer(layer, part))).ToHashSet(StringComparer.Ordinal)
            : [];
        if (Tensors.FirstOrDefault(t => t.Name.EndsWith(".bias", StringComparison.Ordinal) && !biases.Contains(t.Name)) is { } bias)
        {
            throw new InvalidDataException($"{Directory}: the weights hold {bias.Name}; the runner adds biases to the q, k and v projections only, where config.json's model_type is qwen2");
        }

        long hidden = Config.HiddenSize, intermediate = Config.IntermediateSize, vocab = Config.VocabSize;
        long kv = (long)Config.NumKeyValueHeads * Config.HeadDim;
        Expect(LlamaTensorNames.Embedding, vocab, hidden);
        Expect(LlamaTensorNames.FinalNorm, hidden);
        if (!Config.TieWordEmbeddings)
        {
            Expect(LlamaTensorNames.LmHead, vocab, hidden);
        }

        for (var layer = 0; layer < Config.NumHiddenLayers; layer++)
        {
            long[][] shapes =
            [
                [hidden], [hidden, hidden], [kv, hidden], [kv, hidden], [hidden, hidden],
                [hidden], [intermediate, hidden], [intermediate, hidden], [hidden, intermediate],
            ];
            for (var i = 0; i < shapes.Length; i++)
            {
                Expect(LlamaTensorNames.Layer(layer, LlamaTensorNames.LayerParts[i]), shapes[i]);
            }

            if (Config.QkvBias)
            {
                long[][] biasShapes = [[hidden], [kv], [kv]];
                for (var i = 0; i < biasShapes.Length; i++)
                {
                    Expect(LlamaTensorNames.Layer(layer, LlamaTensorNames.QkvBiasParts[i]), biasShapes[i]);
                }
            }
        }
    }

    private void Expect(string name, params long[] shape)
    {
        if (!ByName.TryGetValue(name, out var tensor))
        {
            throw new InvalidDataException($"{Directory}: the weights lack {name}, which config.json calls for");
        }

        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw new InvalidDataException($"{Directory}: {name} is [{string.Join(", ", tensor.Shape)}]; config.json makes it [{string.Join(", ", shape)}]");
        }

        if (tensor.DType is not ("F16" or "BF16"))
        {
            throw new InvalidDataException($"{Directory}: {name} is {tensor.DType}; the runner's kernels take F16 or BF16 weights");
        }
    }
}
