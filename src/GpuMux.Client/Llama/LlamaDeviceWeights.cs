namespace GpuMux.Client.Llama;

/// <summary>The handles of a registered checkpoint's weights, with each one's element type, as a forward pass passes them to kernels.</summary>
internal sealed class LlamaDeviceWeights
{
    private LlamaDeviceWeights(Weight embedding, Weight finalNorm, Weight lmHead, Weight[][] layers)
    {
        Embedding = embedding;
        FinalNorm = finalNorm;
        LmHead = lmHead;
        Layers = layers;
    }

    public Weight Embedding { get; }

    public Weight FinalNorm { get; }

    public Weight LmHead { get; }

    /// <summary>Each layer's weights in <see cref="LlamaTensorNames.LayerParts"/>' order, then its <see cref="LlamaTensorNames.QkvBiasParts"/> where the config has them.</summary>
    public Weight[][] Layers { get; }

    public static async Task<LlamaDeviceWeights> FindAsync(GpuMuxClient client, ClientModel model, LlamaCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        async Task<Weight> Find(string name) =>
            new(await client.GetTensorAsync(model, name, cancellationToken).ConfigureAwait(false), checkpoint.TypeOf(name));

        var embedding = await Find(LlamaTensorNames.Embedding).ConfigureAwait(false);
        var finalNorm = await Find(LlamaTensorNames.FinalNorm).ConfigureAwait(false);
        var lmHead = checkpoint.Config.TieWordEmbeddings ? embedding : await Find(LlamaTensorNames.LmHead).ConfigureAwait(false);
        IReadOnlyList<string> parts = checkpoint.Config.QkvBias ? [.. LlamaTensorNames.LayerParts, .. LlamaTensorNames.QkvBiasParts] : LlamaTensorNames.LayerParts;
        var layers = new Weight[checkpoint.Config.NumHiddenLayers][];
        for (var layer = 0; layer < layers.Length; layer++)
        {
            layers[layer] = new Weight[parts.Count];
            for (var part = 0; part < layers[layer].Length; part++)
            {
                layers[layer][part] = await Find(LlamaTensorNames.Layer(layer, parts[part])).ConfigureAwait(false);
            }
        }

        return new LlamaDeviceWeights(embedding, finalNorm, lmHead, layers);
    }

    internal readonly record struct Weight(ModelTensor Tensor, LlamaDType Type);
}

/// <summary>The index of each of a layer's weights in <see cref="LlamaDeviceWeights.Layers"/>.</summary>
internal static class LayerWeight
{
    public const int InputNorm = 0;
    public const int Q = 1;
    public const int K = 2;
    public const int V = 3;
    public const int O = 4;
    public const int PostAttentionNorm = 5;
    public const int Gate = 6;
    public const int Up = 7;
    public const int Down = 8;
    public const int QBias = 9;
    public const int KBias = 10;
    public const int VBias = 11;
}
