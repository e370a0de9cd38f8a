using System.Text.Json;
using GpuMux.Client.Llama;
using GpuMux.Engine.Models.Safetensors;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Llama.Tests;

public sealed class CheckpointWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TheSameSeedWritesTheSameBytesAndAnotherSeedOtherWeights()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 7, _temp.Sub("a"));
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 7, _temp.Sub("b"));
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 8, _temp.Sub("c"));

        foreach (var file in new[] { "config.json", "model.safetensors" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(_temp.Sub("a"), file)), File.ReadAllBytes(Path.Combine(_temp.Sub("b"), file)));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(_temp.Sub("a"), "model.safetensors")), File.ReadAllBytes(Path.Combine(_temp.Sub("c"), "model.safetensors")));
    }

    [Theory]
    [InlineData("float16", false)]
    [InlineData("bfloat16", true)]
    public void TheFileParsesWithTheDaemonsParserWithEveryTensorNamedAndShapedAsHuggingFaceSavesIt(string torchDType, bool tied)
    {
        var dtype = LlamaDTypeNames.FromTorchName(torchDType);
        var config = LlamaShapes.Tiny with { DType = dtype, TieWordEmbeddings = tied };
        LlamaCheckpointWriter.Write(config, seed: 1, _temp.Path);

        var header = SafetensorsParser.ParseFile(File.ReadAllBytes(_temp.Sub("model.safetensors")), maxHeaderBytes: 1 << 20);

        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(0UL, header.DataOffset % 8);
        var expected = ExpectedTinyShapes(tied);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), header.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var tensor in header.Tensors)
        {
            Assert.Equal(expected[tensor.Name], tensor.Shape);
            Assert.Equal(dtype == LlamaDType.F16 ? SafetensorsDType.F16 : SafetensorsDType.BF16, tensor.DType);
        }
    }

    [Fact]
    public void ConfigJsonHasHuggingFacesFieldsAndReadsBackAsWritten()
    {
        var config = LlamaShapes.Tiny with { DType = LlamaDType.BF16, TieWordEmbeddings = true };
        LlamaCheckpointWriter.Write(config, seed: 1, _temp.Path);

        using var json = JsonDocument.Parse(File.ReadAllBytes(_temp.Sub("config.json")));
        var root = json.RootElement;
        Assert.Equal("LlamaForCausalLM", root.GetProperty("architectures")[0].GetString());
        Assert.Equal("llama", root.GetProperty("model_type").GetString());
        Assert.Equal("bfloat16", root.GetProperty("torch_dtype").GetString());
        Assert.Equal(64, root.GetProperty("hidden_size").GetInt32());
        Assert.Equal(160, root.GetProperty("intermediate_size").GetInt32());
        Assert.Equal(2, root.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(4, root.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(2, root.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(256, root.GetProperty("vocab_size").GetInt32());
        Assert.Equal(1e-5, root.GetProperty("rms_norm_eps").GetDouble());
        Assert.Equal(10000, root.GetProperty("rope_theta").GetDouble());
        Assert.True(root.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal(config, LlamaConfig.Read(_temp.Sub("config.json")));
    }

    [Fact]
    public void AQwen2ConfigSaysSoReadsBackWithItsBiasesAndItsUnusedSlidingWindowCapsNoPositions()
    {
        var config = LlamaShapes.Tiny with { QkvBias = true };
        LlamaCheckpointWriter.Write(config, seed: 1, _temp.Path);
        var path = _temp.Sub("config.json");

        using (var json = JsonDocument.Parse(File.ReadAllBytes(path)))
        {
            var root = json.RootElement;
            Assert.Equal("Qwen2ForCausalLM", root.GetProperty("architectures")[0].GetString());
            Assert.Equal("qwen2", root.GetProperty("model_type").GetString());
            Assert.False(root.GetProperty("use_sliding_window").GetBoolean());
            Assert.False(root.TryGetProperty("attention_bias", out _));
        }

        Assert.Equal(config, LlamaConfig.Read(path));

        // A window shorter than the positions caps them only where it is in use, as Mistral's is.
        var text = File.ReadAllText(path).Replace("\"sliding_window\": 512", "\"sliding_window\": 64", StringComparison.Ordinal);
        File.WriteAllText(path, text);
        Assert.Equal(512, LlamaConfig.Read(path).MaxPositionEmbeddings);
        File.WriteAllText(path, text.Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal));
        Assert.Equal(64, LlamaConfig.Read(path).MaxPositionEmbeddings);
        File.WriteAllText(path, text.Replace("\"use_sliding_window\": false,", "", StringComparison.Ordinal).Replace("\"use_sliding_window\": false", "", StringComparison.Ordinal));
        Assert.Equal(64, LlamaConfig.Read(path).MaxPositionEmbeddings);
    }

    [Fact]
    public void ShardsHoldEveryTensorOnceTheirIndexMapsEachToItsFileAndTheValuesMatchOneFile()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 3, _temp.Sub("one"));
        var names = LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 3, _temp.Sub("three"), shards: 3);

        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"], names);
        var single = Tensors(_temp.Sub("one"), "model.safetensors");
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_temp.Sub("three"), "model.safetensors.index.json")));
        var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        var seen = new Dictionary<string, byte[]>();
        foreach (var name in names)
        {
            var shard = Tensors(_temp.Sub("three"), name);
            Assert.NotEmpty(shard);
            foreach (var (tensor, bytes) in shard)
            {
                Assert.Equal(name, weightMap[tensor]);
                seen.Add(tensor, bytes);
            }
        }

        Assert.Equal(single.Keys.Order(StringComparer.Ordinal), weightMap.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(single.Values.Sum(b => (long)b.Length), index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        foreach (var (tensor, bytes) in single)
        {
            Assert.Equal(bytes, seen[tensor]);
        }
    }

    [Theory]
    [InlineData("7b", 6_738_415_616L, 6_738_415_616L)]
    [InlineData("8b", 8_030_261_248L, 8_030_261_248L)]
    [InlineData("0.5b", 490_000_000L, 500_000_000L)]
    [InlineData("1.5b", 1_530_000_000L, 1_550_000_000L)]
    public void NamedShapesHaveThePublishedModelsParameterCounts(string shape, long least, long most)
    {
        var config = LlamaShapes.Find(shape)!;

        var parameters = LlamaTensor.All(config).Sum(t => t.Elements);

        Assert.InRange(parameters, least, most);
    }

    [Fact]
    public void NormsAreNearOneAndProjectionsScaledByTheirFanIn()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny with { DType = LlamaDType.F16 }, seed: 5, _temp.Path);
        var weights = Reference.LlamaWeights.Load(_temp.Path);

        Assert.All(weights.Norm, w => Assert.InRange(w, 0.9f, 1.1f));
        // 1/sqrt(64) for q_proj's 64 inputs, 1/sqrt(160) for down_proj's.
        var q = weights.Layers[0].Q;
        Assert.InRange(Math.Sqrt(q.Average(v => (double)v * v)), 0.118, 0.132);
        Assert.InRange(q.Average(), -0.01, 0.01);
        var down = weights.Layers[0].Down;
        Assert.InRange(Math.Sqrt(down.Average(v => (double)v * v)), 0.075, 0.083);
        var embedding = weights.Embedding;
        Assert.InRange(Math.Sqrt(embedding.Average(v => (double)v * v)), 0.018, 0.022);
    }

    [Fact]
    public void AWriteCutShortLeavesNoConfigSoTheDirectoryIsNeverTakenForAWholeCheckpoint()
    {
        // A directory where the weights' file should go makes the write fail part way.
        Directory.CreateDirectory(Path.Combine(_temp.Path, LlamaCheckpointWriter.SingleFile));

        var failure = Record.Exception(() => LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 1, _temp.Path));

        Assert.True(failure is IOException or UnauthorizedAccessException, $"unexpected {failure}");

        Assert.False(File.Exists(Path.Combine(_temp.Path, LlamaCheckpointWriter.ConfigFile)));
    }

    private static Dictionary<string, IReadOnlyList<ulong>> ExpectedTinyShapes(bool tied)
    {
        var shapes = new Dictionary<string, IReadOnlyList<ulong>>
        {
            ["model.embed_tokens.weight"] = [256, 64],
            ["model.norm.weight"] = [64],
        };
        if (!tied)
        {
            shapes["lm_head.weight"] = [256, 64];
        }

        for (var layer = 0; layer < 2; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            shapes[prefix + "input_layernorm.weight"] = [64];
            shapes[prefix + "post_attention_layernorm.weight"] = [64];
            shapes[prefix + "self_attn.q_proj.weight"] = [64, 64];
            shapes[prefix + "self_attn.k_proj.weight"] = [32, 64];
            shapes[prefix + "self_attn.v_proj.weight"] = [32, 64];
            shapes[prefix + "self_attn.o_proj.weight"] = [64, 64];
            shapes[prefix + "mlp.gate_proj.weight"] = [160, 64];
            shapes[prefix + "mlp.up_proj.weight"] = [160, 64];
            shapes[prefix + "mlp.down_proj.weight"] = [64, 160];
        }

        return shapes;
    }

    private static Dictionary<string, byte[]> Tensors(string directory, string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(directory, file));
        var header = SafetensorsParser.ParseFile(bytes, maxHeaderBytes: 1 << 20);
        return header.Tensors.ToDictionary(
            t => t.Name,
            t => bytes.AsSpan((int)(header.DataOffset + t.Begin), (int)t.ByteLength).ToArray());
    }
}
