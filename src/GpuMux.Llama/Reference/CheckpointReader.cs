using System.Text.Json;
using GpuMux.Client.Llama;
using GpuMux.Engine.Models.Safetensors;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Llama.Reference;

/// <summary>
/// Reads a model directory in the Hugging Face layout: config.json and model.safetensors, or the shards that
/// model.safetensors.index.json maps each weight to. Headers go through the daemon's own safetensors validation.
/// </summary>
internal sealed class CheckpointReader
{
    private const ulong MaxHeaderBytes = 100UL << 20;

    private readonly Dictionary<string, (string File, SafetensorsHeader Header, SafetensorsTensor Tensor)> _tensors = new(StringComparer.Ordinal);

    private CheckpointReader(LlamaConfig config) => Config = config;

    public LlamaConfig Config { get; }

    public static CheckpointReader Open(string directory)
    {
        var reader = new CheckpointReader(LlamaConfig.Read(Path.Combine(directory, LlamaCheckpointWriter.ConfigFile)));
        var index = Path.Combine(directory, LlamaCheckpointWriter.IndexFile);
        var files = File.Exists(index) ? ShardsOf(index) : [LlamaCheckpointWriter.SingleFile];
        foreach (var name in files)
        {
            var path = Path.Combine(directory, name);
            using var handle = File.OpenHandle(path);
            var header = SafetensorsParser.Read(handle, (ulong)RandomAccess.GetLength(handle), MaxHeaderBytes);
            foreach (var tensor in header.Tensors)
            {
                if (!reader._tensors.TryAdd(tensor.Name, (path, header, tensor)))
                {
                    throw new InvalidDataException($"{path}: tensor '{tensor.Name}' is also in another file of the checkpoint");
                }
            }
        }

        return reader;
    }

    /// <summary>The tensor widened to f32, after checking it has the shape the config gives it.</summary>
    public float[] ReadF32(LlamaTensor expected)
    {
        if (!_tensors.TryGetValue(expected.Name, out var found))
        {
            throw new InvalidDataException($"the checkpoint has no tensor '{expected.Name}'");
        }

        var (path, header, tensor) = found;
        if (!tensor.Shape.Select(d => (long)d).SequenceEqual(expected.Shape))
        {
            throw new InvalidDataException(
                $"{path}: tensor '{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}] but the config gives it [{string.Join(", ", expected.Shape)}]");
        }

        var dtype = LlamaDTypes.FromSafetensors(tensor.DType, tensor.Name);
        var bytes = new byte[tensor.ByteLength];
        using (var handle = File.OpenHandle(path))
        {
            var offset = (long)(header.DataOffset + tensor.Begin);
            for (var done = 0; done < bytes.Length;)
            {
                var read = RandomAccess.Read(handle, bytes.AsSpan(done), offset + done);
                done += read > 0 ? read : throw new InvalidDataException($"{path} ended while reading tensor '{tensor.Name}'");
            }
        }

        var values = new float[expected.Elements];
        dtype.Widen(bytes, values);
        return values;
    }

    private static IEnumerable<string> ShardsOf(string index)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(index));
        if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{index}: \"weight_map\" is missing or not an object");
        }

        return [.. map.EnumerateObject().Select(entry => entry.Value.GetString() ?? throw new InvalidDataException($"{index}: '{entry.Name}' maps to no file")).Distinct()];
    }
}
