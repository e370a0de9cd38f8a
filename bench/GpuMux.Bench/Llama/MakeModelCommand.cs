using System.Diagnostics;
using System.Globalization;
using GpuMux.Client.Llama;
using GpuMux.Llama.Checkpoints;
using GpuMux.Llama;

namespace GpuMux.Bench.Llama;

/// <summary>Writes a Llama-format checkpoint with seeded random weights, for the model benchmarks and for trying the runner without a download.</summary>
internal static class MakeModelCommand
{
    public const string Usage = """
        usage: GpuMux.Bench make-model --out DIR [--shape tiny|0.5b|1.5b|7b|8b|custom] [--dtype f16|bf16]
                                       [--seed N] [--shards N] [--hidden N] [--intermediate N] [--layers N]
                                       [--heads N] [--kv-heads N] [--vocab N] [--rms-norm-eps X]
                                       [--rope-theta X] [--max-positions N] [--tie-word-embeddings true|false]
                                       [--tokenizer none|byte-level]

          --out        the model directory to write: config.json and model.safetensors, or with --shards N,
                       model-0000n-of-0000N.safetensors and model.safetensors.index.json
          --shape      tiny: hidden 64, 2 layers, 4 heads over 2 key/value heads, vocabulary 256 (default);
                       0.5b, 1.5b: Qwen2-0.5B and Qwen2-1.5B's shapes without their q/k/v biases;
                       7b: Llama-2-7B's; 8b: Llama-3-8B's; custom: every shape option below given
          --dtype      the weights' type (default the shape's: f16 for tiny and 7b, bf16 otherwise)
          --seed       the weights' seed; the same seed and options write the same bytes (default 0)
          --shards     files to split the weights over, each tensor whole (default 1)
          --tokenizer  byte-level: also write tokenizer.json, a byte-level BPE (GPT-2's layout) whose merges fill
                       the vocabulary, for `gpumuxctl generate` to take and print text; needs a vocabulary of
                       at least 256; none: no tokenizer, token ids in and out (default)
          The shape options set the config.json field of that meaning, over the shape's own value.

        Weights are uniform with the standard deviation 0.02 of Hugging Face's initializer, norms near 1.
        They are written a tensor at a time: an 8b model needs about 16 GB of disk, not of memory.
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        try
        {
            var (config, seed, shards, directory, tokenizer) = Parse(args);
            var watch = Stopwatch.StartNew();
            var files = LlamaCheckpointWriter.Write(config, seed, directory, shards);
            if (tokenizer)
            {
                ByteLevelTokenizerWriter.Write(config.VocabSize, directory);
            }

            var parameters = LlamaTensor.All(config).Sum(tensor => tensor.Elements);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {directory}: {parameters:N0} parameters in {config.DType.TorchName()}, {files.Count} file(s), {parameters * config.DType.ElementSize / 1e9:F2} GB, {watch.Elapsed.TotalSeconds:F1} s"));
            return 0;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"make-model: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static (LlamaConfig Config, ulong Seed, int Shards, string Directory, bool Tokenizer) Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            if (!values.TryAdd(name, value))
            {
                throw new UsageException($"{name} is given twice");
            }
        }

        string? Take(string name) => values.Remove(name, out var value) ? value : null;
        int? Count(string name) => Take(name) is { } value ? OptionValues.Count(name, value, minimum: 1) : null;
        double? Number(string name) => Take(name) is { } value ? OptionValues.Number(name, value, above: 0) : null;

        var directory = Take("--out") ?? throw new UsageException("--out is required");
        var shapeName = Take("--shape") ?? "tiny";
        var config = shapeName == "custom" ? CustomBase() : LlamaShapes.Find(shapeName)
            ?? throw new UsageException($"--shape: expected {string.Join(", ", LlamaShapes.Names)} or custom, not '{shapeName}'");
        config = config with
        {
            HiddenSize = Count("--hidden") ?? config.HiddenSize,
            IntermediateSize = Count("--intermediate") ?? config.IntermediateSize,
            NumHiddenLayers = Count("--layers") ?? config.NumHiddenLayers,
            NumAttentionHeads = Count("--heads") ?? config.NumAttentionHeads,
            NumKeyValueHeads = Count("--kv-heads") ?? config.NumKeyValueHeads,
            VocabSize = Count("--vocab") ?? config.VocabSize,
            RmsNormEps = Number("--rms-norm-eps") ?? config.RmsNormEps,
            RopeTheta = Number("--rope-theta") ?? config.RopeTheta,
            MaxPositionEmbeddings = Count("--max-positions") ?? config.MaxPositionEmbeddings,
            TieWordEmbeddings = Take("--tie-word-embeddings") switch
            {
                null => config.TieWordEmbeddings,
                "true" => true,
                "false" => false,
                var other => throw new UsageException($"--tie-word-embeddings: expected true or false, not '{other}'"),
            },
            DType = Take("--dtype") switch
            {
                null => config.DType,
                "f16" => LlamaDType.F16,
                "bf16" => LlamaDType.BF16,
                var other => throw new UsageException($"--dtype: expected f16 or bf16, not '{other}'"),
            },
        };
        var seed = Take("--seed") is { } seedText
            ? ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw new UsageException($"--seed: expected a whole number, not '{seedText}'")
            : 0UL;
        var shards = Count("--shards") ?? 1;
        var tokenizer = Take("--tokenizer") switch
        {
            null or "none" => false,
            "byte-level" => true,
            var other => throw new UsageException($"--tokenizer: expected none or byte-level, not '{other}'"),
        };
        if (tokenizer && config.VocabSize < ByteLevelTokenizerWriter.MinimumVocabSize)
        {
            throw new UsageException($"--tokenizer byte-level needs a vocabulary of at least {ByteLevelTokenizerWriter.MinimumVocabSize} tokens, one a byte; this one has {config.VocabSize}");
        }

        if (shapeName == "custom" && new[] { config.HiddenSize, config.IntermediateSize, config.NumHiddenLayers, config.NumAttentionHeads, config.NumKeyValueHeads, config.VocabSize }.Contains(0))
        {
            throw new UsageException("--shape custom needs --hidden, --intermediate, --layers, --heads, --kv-heads and --vocab");
        }

        if (values.Count > 0)
        {
            throw new UsageException($"unknown option '{values.Keys.First()}'");
        }

        var problems = config.Problems();
        if (problems.Count > 0)
        {
            throw new UsageException(string.Join("; ", problems));
        }

        var tensors = LlamaTensor.All(config).Count;
        return shards <= tensors
            ? (config, seed, shards, directory, tokenizer)
            : throw new UsageException($"--shards {shards}: this model has only {tensors} tensors to split");
    }

    /// <summary>Zero where custom requires a value: the check after parsing names what is missing.</summary>
    private static LlamaConfig CustomBase() => new()
    {
        HiddenSize = 0,
        IntermediateSize = 0,
        NumHiddenLayers = 0,
        NumAttentionHeads = 0,
        NumKeyValueHeads = 0,
        VocabSize = 0,
    };
}
