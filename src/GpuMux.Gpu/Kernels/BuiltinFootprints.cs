namespace GpuMux.Gpu.Kernels;

/// <summary>
/// The memory a built-in kernel reaches through one pointer parameter: from the pointer,
/// <see cref="ElementBytes"/> times the scalar arguments at <see cref="FirstCount"/> and
/// <see cref="SecondCount"/> (-1: none), loaded through a pointer that must be aligned to
/// <see cref="Alignment"/>; <see cref="Writes"/> when the kernel stores through it. The kernels
/// loop over their counts whatever the launch's shape, so the footprint depends on the arguments alone.
/// </summary>
public readonly record struct PointerFootprint(int Parameter, ulong ElementBytes, ulong Alignment, int FirstCount = -1, int SecondCount = -1, bool Writes = false)
{
    /// <summary>The bytes reached for these counts (1 where the footprint names no count); wide enough never to overflow.</summary>
    public UInt128 Bytes(ulong firstCount, ulong secondCount) =>
        (UInt128)ElementBytes * (FirstCount < 0 ? 1 : firstCount) * (SecondCount < 0 ? 1 : secondCount);
}

/// <summary>
/// What each built-in kernel in native/kernels reads and writes, in terms of its arguments, so
/// that a launch can be checked to stay inside the buffers and tensors it is given before it
/// reaches the device. A kernel with no pointer parameters has an empty list.
/// </summary>
public static class BuiltinFootprints
{
    public static IReadOnlyDictionary<string, PointerFootprint[]> ByName { get; } = new Dictionary<string, PointerFootprint[]>
    {
        [KernelNames.FillF32] = [new(0, sizeof(float), sizeof(float), FirstCount: 2, Writes: true)],
        [KernelNames.AxpyF32] = [new(0, sizeof(float), sizeof(float), FirstCount: 3, Writes: true), new(1, sizeof(float), sizeof(float), FirstCount: 3)],
        [KernelNames.GemvF32] = Gemv(sizeof(float)),
        [KernelNames.GemvF16] = Gemv(sizeof(ushort)),
        [KernelNames.GemvBf16] = Gemv(sizeof(ushort)),
        [KernelNames.Spin] = [],

        // The words are read whole up to the last full one and byte by byte after it.
        [KernelNames.Checksum] = [new(0, 1, sizeof(uint), FirstCount: 1), new(2, sizeof(ulong), sizeof(ulong), Writes: true)],

        // The whole table counts, though only the rows the ids name are read.
        [KernelNames.EmbeddingF16] = Embedding,
        [KernelNames.EmbeddingBf16] = Embedding,
        [KernelNames.RmsNormF16] = RmsNorm,
        [KernelNames.RmsNormBf16] = RmsNorm,
        [KernelNames.RopeF32] = [new(0, sizeof(float), sizeof(float), FirstCount: 2, SecondCount: 3, Writes: true), new(1, sizeof(uint), sizeof(uint), FirstCount: 2)],
        [KernelNames.SwigluF32] =
        [
            new(0, sizeof(float), sizeof(float), FirstCount: 3),
            new(1, sizeof(float), sizeof(float), FirstCount: 3),
            new(2, sizeof(float), sizeof(float), FirstCount: 3, Writes: true),
        ],
        [KernelNames.AddF32] = [new(0, sizeof(float), sizeof(float), FirstCount: 2, Writes: true), new(1, sizeof(float), sizeof(float), FirstCount: 2)],
        [KernelNames.ArgmaxF32] = RowsToColumns,
        [KernelNames.SampleF32] = RowsToColumns,
    };

    /// <summary>table is vocab × hidden 2-byte weights, ids has tokens u32s, out tokens × hidden floats.</summary>
    private static PointerFootprint[] Embedding =>
    [
        new(0, sizeof(ushort), sizeof(ushort), FirstCount: 4, SecondCount: 5),
        new(1, sizeof(uint), sizeof(uint), FirstCount: 3),
        new(2, sizeof(float), sizeof(float), FirstCount: 3, SecondCount: 5, Writes: true),
    ];

    /// <summary>logits are rows × cols floats, out one u32 per row.</summary>
    private static PointerFootprint[] RowsToColumns =>
        [new(0, sizeof(float), sizeof(float), FirstCount: 2, SecondCount: 3), new(1, sizeof(uint), sizeof(uint), FirstCount: 2, Writes: true)];

    /// <summary>x and y are rows × cols floats, w has cols 2-byte weights.</summary>
    private static PointerFootprint[] RmsNorm =>
    [
        new(0, sizeof(float), sizeof(float), FirstCount: 3, SecondCount: 4),
        new(1, sizeof(ushort), sizeof(ushort), FirstCount: 4),
        new(2, sizeof(float), sizeof(float), FirstCount: 3, SecondCount: 4, Writes: true),
    ];

    /// <summary>w is rows × cols weights, x has cols floats, y rows floats.</summary>
    private static PointerFootprint[] Gemv(ulong weightBytes) =>
    [
        new(0, weightBytes, weightBytes, FirstCount: 3, SecondCount: 4),
        new(1, sizeof(float), sizeof(float), FirstCount: 4),
        new(2, sizeof(float), sizeof(float), FirstCount: 3, Writes: true),
    ];
}
