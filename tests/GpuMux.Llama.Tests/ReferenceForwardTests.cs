using GpuMux.Client.Llama;
using GpuMux.Llama.Checkpoints;
using GpuMux.Llama.Reference;

namespace GpuMux.Llama.Tests;

/// <summary>
/// The CPU reference on a tiny checkpoint. No PyTorch or transformers is installed here to compare against, so these
/// check the properties the reference must have: finite logits, determinism, the KV cache changing nothing, and
/// grouped-query attention agreeing with the plain multi-head form.
/// </summary>
public sealed class ReferenceForwardTests : IDisposable
{
    private static readonly int[] Prompt = [1, 17, 200, 42, 42, 7];

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("float16", false)]
    [InlineData("bfloat16", true)]
    public void EveryPositionGetsFiniteLogitsOverTheVocabulary(string torchDType, bool tied)
    {
        var dtype = LlamaDTypeNames.FromTorchName(torchDType);
        var reference = new LlamaReference(Tiny(dtype, tied));

        var logits = reference.Forward(Prompt, reference.NewCache());

        Assert.Equal(Prompt.Length, logits.Length);
        Assert.All(logits, row =>
        {
            Assert.Equal(256, row.Length);
            Assert.All(row, value => Assert.True(float.IsFinite(value)));
            Assert.True(row.Max() - row.Min() > 1e-3f, "logits do not depend on the token");
        });
    }

    [Fact]
    public void GreedyDecodingGivesTheSameTokensEachTimeFromTheSameCheckpoint()
    {
        var first = new LlamaReference(Tiny()).GreedyDecode(Prompt, 12);
        var second = new LlamaReference(Tiny(seed: 11, directory: "again")).GreedyDecode(Prompt, 12);

        Assert.Equal(first, second);
        Assert.All(first, token => Assert.InRange(token, 0, 255));
    }

    [Fact]
    public void CachedDecodingGivesTheLogitsOfRecomputingTheWholePrefix()
    {
        var reference = new LlamaReference(Tiny());
        var tokens = Prompt.Concat(reference.GreedyDecode(Prompt, 6)).ToArray();
        var cache = reference.NewCache();
        reference.Forward(tokens[..3], cache);

        for (var position = 3; position < tokens.Length; position++)
        {
            var cached = reference.Forward([tokens[position]], cache)[0];
            var recomputed = reference.Forward(tokens[..(position + 1)], reference.NewCache())[^1];
            AssertClose(recomputed, cached, relative: 1e-5f);
        }
    }

    [Fact]
    public void ShardedAndSingleFileCheckpointsGiveTheSameLogits()
    {
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny, seed: 11, _temp.Sub("sharded"), shards: 4);
        var single = new LlamaReference(Tiny());
        var sharded = new LlamaReference(LlamaWeights.Load(_temp.Sub("sharded")));

        Assert.Equal(single.Forward(Prompt, single.NewCache()), sharded.Forward(Prompt, sharded.NewCache()));
    }

    [Fact]
    public void GroupedQueryAttentionEqualsMultiHeadAttentionWithEachKeyValueHeadRepeatedForItsQueries()
    {
        var grouped = Tiny();
        var plain = WithKeyValueHeadsRepeated(grouped, interleaved: false);
        var wronglyPaired = WithKeyValueHeadsRepeated(grouped, interleaved: true);

        var expected = Run(grouped);

        Assert.Equal(expected, Run(plain));
        Assert.NotEqual(expected, Run(wronglyPaired));

        static float[][] Run(LlamaWeights weights)
        {
            var reference = new LlamaReference(weights);
            return reference.Forward(Prompt, reference.NewCache());
        }
    }

    /// <summary>
    /// The multi-head model that grouped-query attention stands for: query head h gets a copy of key/value head
    /// h / group (repeat_kv's order), or, to show that the test tells the orders apart, h mod kv_heads.
    /// </summary>
    private static LlamaWeights WithKeyValueHeadsRepeated(LlamaWeights weights, bool interleaved)
    {
        var config = weights.Config;
        var (heads, kvHeads, rowsPerHead) = (config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim * config.HiddenSize);
        float[] Repeat(float[] matrix)
        {
            var repeated = new float[heads * rowsPerHead];
            for (var head = 0; head < heads; head++)
            {
                var source = interleaved ? head % kvHeads : head / config.QueriesPerKeyValueHead;
                matrix.AsSpan(source * rowsPerHead, rowsPerHead).CopyTo(repeated.AsSpan(head * rowsPerHead));
            }

            return repeated;
        }

        return weights with
        {
            Config = config with { NumKeyValueHeads = heads },
            Layers = [.. weights.Layers.Select(layer => layer with { K = Repeat(layer.K), V = Repeat(layer.V) })],
        };
    }

    private LlamaWeights Tiny(LlamaDType dtype = LlamaDType.F16, bool tied = false, ulong seed = 11, string directory = "tiny")
    {
        var path = _temp.Sub($"{directory}-{dtype}-{tied}");
        LlamaCheckpointWriter.Write(LlamaShapes.Tiny with { DType = dtype, TieWordEmbeddings = tied }, seed, path);
        return LlamaWeights.Load(path);
    }

    private static void AssertClose(float[] expected, float[] actual, float relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(MathF.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= relative * scale, $"logit {i}: {actual[i]} against {expected[i]}");
        }
    }
}
