using Kind = GpuMux.Gpu.KernelArgumentKind;

namespace GpuMux.Gpu.Kernels;

/// <summary>
/// The parameters of the built-in kernels in native/kernels, in declaration order. The simulated
/// device lays its kernels out from them, and a driver too old to report a kernel's parameters
/// is given them for the built-in module, which the daemon compiles from its own sources.
/// </summary>
public static class BuiltinSignatures
{
    public static IReadOnlyDictionary<string, Kind[]> ByName { get; } = new Dictionary<string, Kind[]>
    {
        [KernelNames.FillF32] = [Kind.Pointer, Kind.Float32, Kind.UInt64],
        [KernelNames.AxpyF32] = [Kind.Pointer, Kind.Pointer, Kind.Float32, Kind.UInt64],
        [KernelNames.GemvF32] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32],
        [KernelNames.GemvF16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32],
        [KernelNames.GemvBf16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32],
        [KernelNames.Spin] = [Kind.UInt64],
        [KernelNames.Checksum] = [Kind.Pointer, Kind.UInt64, Kind.Pointer],
        [KernelNames.EmbeddingF16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt32],
        [KernelNames.EmbeddingBf16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt32],
        [KernelNames.RmsNormF16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.Float32],
        [KernelNames.RmsNormBf16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.Float32],
        [KernelNames.RopeF32] = [Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.Float32],
        [KernelNames.SwigluF32] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt64],
        [KernelNames.AddF32] = [Kind.Pointer, Kind.Pointer, Kind.UInt64],
        [KernelNames.BiasAddF16] = [Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32],
        [KernelNames.BiasAddBf16] = [Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32],
        [KernelNames.ArgmaxF32] = [Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32],
        [KernelNames.SampleF32] = [Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt64, Kind.UInt32, Kind.Float32, Kind.UInt32, Kind.Float32],
        [KernelNames.MatmulF32] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt32],
        [KernelNames.MatmulF16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt32],
        [KernelNames.MatmulBf16] = [Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.UInt32, Kind.UInt32, Kind.UInt32],
        [KernelNames.AttentionPagedF32] =
        [
            Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.Pointer,
            Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.Float32,
        ],
        [KernelNames.KvAppendF32] =
        [
            Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.Pointer, Kind.Pointer,
            Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32, Kind.UInt32,
        ],
    };

    /// <summary>Each built-in kernel's parameters, laid out as the compiler does.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<KernelParameter>> Parameters { get; } =
        ByName.ToDictionary(entry => entry.Key, entry => (IReadOnlyList<KernelParameter>)KernelParameter.LayOut(entry.Value));
}
