using GpuMux.Engine.Models.Safetensors;

namespace GpuMux.Engine.Models;

/// <summary>
/// What a model's file holds, as the engine uses it: each tensor's place in the data section
/// and size, found by name, and the layer groups the data is swapped in by. A group is a run of
/// tensors in file order; its bytes end where its last tensor ends (the last group's at the end
/// of the data), so groups are contiguous and the swap-in copies them front to back. Immutable.
/// </summary>
internal sealed class ModelLayout
{
    private readonly Dictionary<string, int> _indexByName;
    private readonly ulong[] _begin;
    private readonly ulong[] _bytes;
    private readonly int[] _groupOf;
    private readonly ulong[] _groupEnd;

    private ModelLayout(SafetensorsHeader header, int[] groupCounts)
    {
        var tensors = header.Tensors;
        DataOffset = header.DataOffset;
        DataBytes = tensors.Count == 0 ? 0 : header.DataBytes;
        _indexByName = new Dictionary<string, int>(tensors.Count, StringComparer.Ordinal);
        _begin = new ulong[tensors.Count];
        _bytes = new ulong[tensors.Count];
        _groupOf = new int[tensors.Count];
        _groupEnd = new ulong[groupCounts.Length];
        var index = 0;
        ulong end = 0;
        for (var group = 0; group < groupCounts.Length; group++)
        {
            for (var k = 0; k < groupCounts[group]; k++, index++)
            {
                var tensor = tensors[index];
                _indexByName[tensor.Name] = index;
                _begin[index] = tensor.Begin;
                _bytes[index] = tensor.End - tensor.Begin;
                _groupOf[index] = group;
                end = Math.Max(end, tensor.End);
            }
            _groupEnd[group] = group == groupCounts.Length - 1 ? DataBytes : end;
        }
    }

    /// <summary>Where the data section starts in the file.</summary>
    public ulong DataOffset { get; }

    /// <summary>The data section's length: the bytes a swap-in copies (0 for a model with no tensors).</summary>
    public ulong DataBytes { get; }

    public int TensorCount => _begin.Length;

    public int GroupCount => _groupEnd.Length;

    /// <summary>
    /// The layout of <paramref name="header"/>'s tensors in groups of <paramref name="groupTensorCounts"/>
    /// tensors each, in file order, or of <paramref name="defaultGroupTensors"/> when none are given.
    /// </summary>
    public static ModelLayout Create(SafetensorsHeader header, IReadOnlyList<int>? groupTensorCounts, int defaultGroupTensors)
    {
        var count = header.Tensors.Count;
        int[] groups;
        if (groupTensorCounts is null)
        {
            groups = new int[(count + defaultGroupTensors - 1) / defaultGroupTensors];
            for (var g = 0; g < groups.Length; g++)
            {
                groups[g] = Math.Min(defaultGroupTensors, count - (g * defaultGroupTensors));
            }
        }
        else
        {
            groups = [.. groupTensorCounts];
            long sum = 0;
            foreach (var size in groups)
            {
                if (size <= 0)
                {
                    throw new EngineException(EngineError.InvalidArgument, $"a layer group must hold at least one tensor, not {size}");
                }
                sum += size;
            }
            if (sum != count)
            {
                throw new EngineException(EngineError.InvalidArgument, $"the layer groups hold {sum} tensors in all, but the model has {count}");
            }
        }
        return new ModelLayout(header, groups);
    }

    public bool TryFind(string name, out int index) => _indexByName.TryGetValue(name, out index);

    /// <summary>Where tensor <paramref name="index"/> starts, from the start of the data section.</summary>
    public ulong BeginOf(int index) => _begin[index];

    public ulong BytesOf(int index) => _bytes[index];

    public int GroupOf(int index) => _groupOf[index];

    /// <summary>Where group <paramref name="group"/>'s bytes end, from the start of the data section; it starts where the one before ends.</summary>
    public ulong GroupEnd(int group) => _groupEnd[group];
}
