using System.Globalization;
using System.Text.Json;
using GpuMux.Client.Llama;
using GpuMux.Llama.Safetensors;

namespace GpuMux.Llama.Checkpoints;

/// <summary>
/// Writes a Llama-format checkpoint with seeded random weights: config.json and model.safetensors, or shards named
/// model-0000N-of-0000M.safetensors with model.safetensors.index.json, as Hugging Face's save_pretrained lays them out.
/// The same config, seed and shard count give the same bytes.
/// </summary>
/// <remarks>
/// Projections and embeddings are uniform with standard deviation 0.02 (Hugging Face's initializer_range, drawn
/// uniform rather than normal since only the scale matters here); norm weights are uniform in [0.9, 1.1], near the ones
/// of a trained model, so that activations keep a sane scale through any number of layers. Biases, where the config
/// has them, are uniform in [-1, 1]: wide enough that each of q, k and v changes a tiny model's tokens, the keys' only
/// through the rotary embedding, since one shift of every key leaves each softmax as it was.
/// </remarks>
internal static class LlamaCheckpointWriter
{
    public const string ConfigFile = "config.json";
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    private const float EmbeddingHalfWidth = 0.02f * Sqrt3;
    private const float Sqrt3 = 1.7320508f;
    private const float NormHalfWidth = 0.1f;
    private const float BiasHalfWidth = 1f;
    private const int ChunkElements = 1 << 16;

    /// <summary>
    /// Writes the checkpoint into <paramref name="directory"/> (created if needed) and returns the
    /// weight files' names. config.json comes last, so that a directory holding one holds a whole
    /// checkpoint: a write cut short is never taken for a finished one.
    /// </summary>
    public static IReadOnlyList<string> Write(LlamaConfig config, ulong seed, string directory, int shards = 1)
    {
        var problems = config.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(config));
        }

        var tensors = LlamaTensor.All(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shards, tensors.Count);
        Directory.CreateDirectory(directory);
        var entries = tensors.Select(tensor => new SafetensorsEntry(tensor.Name, config.DType.Safetensors, tensor.Shape)).ToArray();
        var shardOf = AssignShards(entries, shards);
        var names = Enumerable.Range(1, shards)
            .Select(n => shards == 1 ? SingleFile : string.Create(CultureInfo.InvariantCulture, $"model-{n:D5}-of-{shards:D5}.safetensors"))
            .ToArray();
        for (var shard = 0; shard < shards; shard++)
        {
            var indices = Enumerable.Range(0, entries.Length).Where(i => shardOf[i] == shard).ToArray();
            SafetensorsWriter.Write(
                Path.Combine(directory, names[shard]),
                [.. indices.Select(i => entries[i])],
                new Dictionary<string, string> { ["format"] = "pt" },
                (position, stream) => WriteValues(tensors[indices[position]], SeededValues.ForTensor(seed, indices[position]), config.DType, stream));
        }

        if (shards > 1)
        {
            WriteIndex(Path.Combine(directory, IndexFile), entries, shardOf, names);
        }

        using (var configFile = File.Create(Path.Combine(directory, ConfigFile)))
        {
            config.WriteJson(configFile);
        }

        return names;
    }

    /// <summary>Consecutive tensors, each shard taking about an equal share of the bytes and none left empty.</summary>
    private static int[] AssignShards(IReadOnlyList<SafetensorsEntry> entries, int shards)
    {
        var total = entries.Sum(entry => entry.ByteLength);
        var shardOf = new int[entries.Count];
        var (shard, before, inShard) = (0, 0L, 0);
        for (var i = 0; i < entries.Count; i++)
        {
            var mustMove = inShard > 0 && entries.Count - i == shards - shard - 1;
            var shareFull = inShard > 0 && shard < shards - 1 && before >= total / shards * (shard + 1);
            if (mustMove || shareFull)
            {
                (shard, inShard) = (shard + 1, 0);
            }

            shardOf[i] = shard;
            before += entries[i].ByteLength;
            inShard++;
        }

        return shardOf;
    }

    private static void WriteValues(LlamaTensor tensor, SeededValues values, LlamaDType dtype, Stream stream)
    {
        // Projections have a standard deviation of 1/sqrt(fan-in), as a trained layer's roughly
        // has, so that attention is sharp enough for positions to matter: at the 0.02 of
        // initialisation, a tiny model attends almost evenly and would hide a wrong position.
        var (center, halfWidth) = tensor.Role switch
        {
            LlamaTensorRole.Norm => (1f, NormHalfWidth),
            LlamaTensorRole.Embedding => (0f, EmbeddingHalfWidth),
            LlamaTensorRole.Bias => (0f, BiasHalfWidth),
            _ => (0f, Sqrt3 / MathF.Sqrt(tensor.Shape[^1])),
        };
        var floats = new float[ChunkElements];
        var bytes = new byte[ChunkElements * dtype.ElementSize];
        for (var left = tensor.Elements; left > 0; left -= ChunkElements)
        {
            var count = (int)Math.Min(left, ChunkElements);
            for (var i = 0; i < count; i++)
            {
                floats[i] = center + (halfWidth * values.NextSigned());
            }

            dtype.Narrow(floats.AsSpan(0, count), bytes);
            stream.Write(bytes, 0, count * dtype.ElementSize);
        }
    }

    private static void WriteIndex(string path, IReadOnlyList<SafetensorsEntry> entries, int[] shardOf, string[] names)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteNumber("total_size", entries.Sum(entry => entry.ByteLength));
        json.WriteEndObject();
        json.WriteStartObject("weight_map");
        foreach (var i in Enumerable.Range(0, entries.Count).OrderBy(i => entries[i].Name, StringComparer.Ordinal))
        {
            json.WriteString(entries[i].Name, names[shardOf[i]]);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
