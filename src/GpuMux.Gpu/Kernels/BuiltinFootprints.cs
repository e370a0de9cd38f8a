namespace GpuMux.Gpu.Kernels;

/// <summary>
/// The memory a built-in kernel reaches through one pointer parameter: from the pointer,
/// <see cref="ElementBytes"/> times the scalar arguments at <see cref="FirstCount"/>,
/// <see cref="SecondCount"/>, <see cref="ThirdCount"/> and <see cref="FourthCount"/> (-1: none),
/// loaded through a pointer that must be aligned to <see cref="Alignment"/>; <see cref="Writes"/>
/// when the kernel stores through it. The kernels loop over their counts whatever the launch's
/// shape, so the footprint depends on the arguments alone. Four counts cover the widest tensor a
/// built-in indexes: a paged KV cache's pages × slots × heads × dimensions.
/// </summary>
public readonly record struct PointerFootprint(int Parameter, ulong ElementBytes, ulong Alignment, int FirstCount = -1, int SecondCount = -1, bool Writes = false, int ThirdCount = -1, int FourthCount = -1)
{
    /// <summary>
    /// The bytes reached for these counts (a count the footprint does not name is ignored);
    /// a product past <see cref="UInt128.MaxValue"/>, which four 32-bit counts can reach, saturates there.
    /// </summary>
    public UInt128 Bytes(ulong firstCount, ulong secondCount, ulong thirdCount = 1, ulong fourthCount = 1)
    {
        var bytes = (UInt128)ElementBytes;
        bytes = Times(bytes, FirstCount, firstCount);
        bytes = Times(bytes, SecondCount, secondCount);
        bytes = Times(bytes, ThirdCount, thirdCount);
        return Times(bytes, FourthCount, fourthCount);
    }

    private static UInt128 Times(UInt128 bytes, int parameter, ulong count) =>
        parameter < 0 ? bytes
        : count != 0 && bytes > UInt128.MaxValue / count ? UInt128.MaxValue
        : bytes * count;
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
        [KernelNames.BiasAddF16] = BiasAdd,
        [KernelNames.BiasAddBf16] = BiasAdd,
        [KernelNames.ArgmaxF32] = RowsToColumns,
        [KernelNames.SampleF32] = RowsToColumns,
        [KernelNames.MatmulF32] = Matmul(sizeof(float)),
        [KernelNames.MatmulF16] = Matmul(sizeof(ushort)),
        [KernelNames.MatmulBf16] = Matmul(sizeof(ushort)),

        // q and out are tokens (5) × q_heads (6) × head_dim (8) floats; each cache is pages (10) ×
        // page_tokens (9) × kv_heads (7) × head_dim floats; the table has table_pages (11) entries.
        // The table's contents are not the daemon's to check: the kernel skips any entry past
        // pages, so the caches' footprints hold whatever the table says.
        [KernelNames.AttentionPagedF32] =
        [
            new(0, sizeof(float), sizeof(float), FirstCount: 5, SecondCount: 6, ThirdCount: 8),
            new(1, sizeof(float), sizeof(float), FirstCount: 10, SecondCount: 9, ThirdCount: 7, FourthCount: 8),
            new(2, sizeof(float), sizeof(float), FirstCount: 10, SecondCount: 9, ThirdCount: 7, FourthCount: 8),
            new(3, sizeof(uint), sizeof(uint), FirstCount: 11),
            new(4, sizeof(float), sizeof(float), FirstCount: 5, SecondCount: 6, ThirdCount: 8, Writes: true),
        ],

        // k_new and v_new are tokens (5) × kv_heads (6) × head_dim (7) floats; each cache, written,
        // pages (9) × page_tokens (8) × kv_heads × head_dim; the table has table_pages (10)
        // entries, each checked by the kernel as attention_paged_f32 checks them.
        [KernelNames.KvAppendF32] =
        [
            new(0, sizeof(float), sizeof(float), FirstCount: 5, SecondCount: 6, ThirdCount: 7),
            new(1, sizeof(float), sizeof(float), FirstCount: 5, SecondCount: 6, ThirdCount: 7),
            new(2, sizeof(float), sizeof(float), FirstCount: 9, SecondCount: 8, ThirdCount: 6, FourthCount: 7, Writes: true),
            new(3, sizeof(float), sizeof(float), FirstCount: 9, SecondCount: 8, ThirdCount: 6, FourthCount: 7, Writes: true),
            new(4, sizeof(uint), sizeof(uint), FirstCount: 10),
        ],
    };

    /// <summary>table is vocab × hidden 2-byte weights, ids has tokens u32s, out tokens × hidden floats.</summary>
    private static PointerFootprint[] Embedding =>
    [
        new(0, sizeof(ushort), sizeof(ushort), FirstCount: 4, SecondCount: 5),
        new(1, sizeof(uint), sizeof(uint), FirstCount: 3),
        new(2, sizeof(float), sizeof(float), FirstCount: 3, SecondCount: 5, Writes: true),
    ];

    /// <summary>y is rows × cols floats, bias cols 2-byte values.</summary>
    private static PointerFootprint[] BiasAdd =>
        [new(0, sizeof(float), sizeof(float), FirstCount: 2, SecondCount: 3, Writes: true), new(1, sizeof(ushort), sizeof(ushort), FirstCount: 3)];

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

    /// <summary>w is rows × cols weights, x tokens × cols floats, y tokens × rows floats.</summary>
    private static PointerFootprint[] Matmul(ulong weightBytes) =>
    [
        new(0, weightBytes, weightBytes, FirstCount: 3, SecondCount: 4),
        new(1, sizeof(float), sizeof(float), FirstCount: 5, SecondCount: 4),
        new(2, sizeof(float), sizeof(float), FirstCount: 5, SecondCount: 3, Writes: true),
    ];
}
