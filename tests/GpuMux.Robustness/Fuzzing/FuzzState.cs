namespace GpuMux.Robustness.Fuzzing;

/// <summary>What a fuzzing session set up honestly, so that its mutated requests name real handles.</summary>
internal sealed class FuzzState
{
    public const ulong RegionBytes = 64 << 10;
    public const ulong BufferBytes = 64 << 10;

    public uint Region { get; set; }

    public List<uint> Buffers { get; } = [];

    public Dictionary<string, uint> Functions { get; } = [];

    public uint Model { get; set; }

    public uint Tensor { get; set; }

    public uint Buffer(Random random) => Buffers.Count == 0 ? (uint)random.Next(1, 8) : Buffers[random.Next(Buffers.Count)];

    public uint Function(string name) => Functions.GetValueOrDefault(name, 1u);
}
