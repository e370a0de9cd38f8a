namespace GpuMux.Llama.Checkpoints;

/// <summary>
/// A SplitMix64 stream of uniform values. The generator is written out rather than taken from <see cref="Random"/>,
/// whose seeded sequence .NET does not promise to keep across versions: a checkpoint's bytes must not change with the runtime.
/// </summary>
internal struct SeededValues(ulong seed)
{
    private ulong _state = seed;

    /// <summary>A stream of its own for each tensor, so that each tensor's values depend only on the seed and its index.</summary>
    public static SeededValues ForTensor(ulong seed, int tensorIndex)
    {
        var mixer = new SeededValues(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(tensorIndex + 1)));
        return new SeededValues(mixer.NextBits());
    }

    /// <summary>Uniform in [-1, 1), from the top 24 bits so that every value is exact in f32.</summary>
    public float NextSigned() => ((int)(NextBits() >> 40) - (1 << 23)) * (1f / (1 << 23));

    private ulong NextBits()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
