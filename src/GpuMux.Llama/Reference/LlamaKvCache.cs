namespace GpuMux.Llama.Reference;

/// <summary>The keys and values of every position fed so far, per layer, after rotary embedding (keys) as attention reads them.</summary>
internal sealed class LlamaKvCache
{
    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;

    public LlamaKvCache(int layers)
    {
        _keys = [.. Enumerable.Range(0, layers).Select(_ => new List<float[]>())];
        _values = [.. Enumerable.Range(0, layers).Select(_ => new List<float[]>())];
    }

    /// <summary>Positions held; the next token fed is at this position.</summary>
    public int Length => _keys.Length == 0 ? 0 : _values[^1].Count;

    public IReadOnlyList<float[]> Keys(int layer) => _keys[layer];

    public IReadOnlyList<float[]> Values(int layer) => _values[layer];

    public void Append(int layer, float[] key, float[] value)
    {
        _keys[layer].Add(key);
        _values[layer].Add(value);
    }
}
