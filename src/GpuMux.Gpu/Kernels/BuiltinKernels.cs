using System.Reflection;
using System.Text;

namespace GpuMux.Gpu.Kernels;

/// <summary>
/// The kernels every context has: the CUDA C in native/kernels, embedded in this assembly and
/// compiled for the device at run time (through the disk cache), with typed launchers that
/// choose the launch shape. Like everything on a context, use it from the context's thread.
/// </summary>
public sealed class BuiltinKernels : IDisposable
{
    public const uint BlockSize = 256;

    private const uint WarpsPerBlock = BlockSize / 32;
    private const string ResourcePrefix = "GpuMux.Kernels.";

    private readonly GpuModule _module;
    private readonly KernelArguments _arguments = new();
    private readonly uint _maxBlocks;
    private readonly GpuFunction _fill;
    private readonly GpuFunction _axpy;
    private readonly GpuFunction _gemvF32;
    private readonly GpuFunction _gemvF16;
    private readonly GpuFunction _gemvBf16;
    private readonly GpuFunction _spin;
    private readonly GpuFunction _checksum;
    private readonly GpuFunction _embeddingF16;
    private readonly GpuFunction _embeddingBf16;
    private readonly GpuFunction _rmsNormF16;
    private readonly GpuFunction _rmsNormBf16;
    private readonly GpuFunction _rope;
    private readonly GpuFunction _swiglu;
    private readonly GpuFunction _add;
    private readonly GpuFunction _biasAddF16;
    private readonly GpuFunction _biasAddBf16;
    private readonly GpuFunction _argmax;
    private readonly GpuFunction _sample;

    private readonly GpuFunction _matmulF32;
    private readonly GpuFunction _matmulF16;
    private readonly GpuFunction _matmulBf16;
    private readonly GpuFunction _attentionPaged;
    private readonly GpuFunction _kvAppend;

    private BuiltinKernels(GpuModule module, GpuDeviceInfo device)
    {
        _module = module;
        // Enough resident blocks to fill every multiprocessor several times over; the kernels
        // cover the rest with grid-stride loops.
        _maxBlocks = (uint)Math.Max(1, device.MultiprocessorCount) * 8;
        _fill = module.GetFunction(KernelNames.FillF32);
        _axpy = module.GetFunction(KernelNames.AxpyF32);
        _gemvF32 = module.GetFunction(KernelNames.GemvF32);
        _gemvF16 = module.GetFunction(KernelNames.GemvF16);
        _gemvBf16 = module.GetFunction(KernelNames.GemvBf16);
        _spin = module.GetFunction(KernelNames.Spin);
        _checksum = module.GetFunction(KernelNames.Checksum);
        _embeddingF16 = module.GetFunction(KernelNames.EmbeddingF16);
        _embeddingBf16 = module.GetFunction(KernelNames.EmbeddingBf16);
        _rmsNormF16 = module.GetFunction(KernelNames.RmsNormF16);
        _rmsNormBf16 = module.GetFunction(KernelNames.RmsNormBf16);
        _rope = module.GetFunction(KernelNames.RopeF32);
        _swiglu = module.GetFunction(KernelNames.SwigluF32);
        _add = module.GetFunction(KernelNames.AddF32);
        _biasAddF16 = module.GetFunction(KernelNames.BiasAddF16);
        _biasAddBf16 = module.GetFunction(KernelNames.BiasAddBf16);
        _argmax = module.GetFunction(KernelNames.ArgmaxF32);
        _sample = module.GetFunction(KernelNames.SampleF32);
        _matmulF32 = module.GetFunction(KernelNames.MatmulF32);
        _matmulF16 = module.GetFunction(KernelNames.MatmulF16);
        _matmulBf16 = module.GetFunction(KernelNames.MatmulBf16);
        _attentionPaged = module.GetFunction(KernelNames.AttentionPagedF32);
        _kvAppend = module.GetFunction(KernelNames.KvAppendF32);
    }

    /// <summary>All built-in kernel sources as one translation unit, with <c>#line</c> marks so that errors name the original file.</summary>
    public static KernelSource Source { get; } = LoadSource();

    /// <summary>The built-ins compiled for the context's device, with their declared parameters for a driver that cannot report them.</summary>
    public static ModuleImage Compile(GpuContext context) =>
        context.Compile(Source).Image with { DeclaredParameters = BuiltinSignatures.Parameters };

    public static BuiltinKernels Load(GpuContext context) => Load(context, Compile(context));

    /// <summary>The built-ins from an image <see cref="Compile"/> made earlier for this device, so nothing is compiled again.</summary>
    public static BuiltinKernels Load(GpuContext context, ModuleImage image)
    {
        var module = context.LoadModule(image);
        try
        {
            return new BuiltinKernels(module, context.Device);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Sets <paramref name="count"/> floats at <paramref name="destination"/> to <paramref name="value"/>.</summary>
    public void Fill(GpuStream stream, DevicePtr destination, float value, ulong count) =>
        stream.Launch(_fill, Linear(count), _arguments.Clear().Add(destination).Add(value).Add(count));

    /// <summary>y = a·x + y over <paramref name="count"/> floats.</summary>
    public void Axpy(GpuStream stream, DevicePtr y, DevicePtr x, float a, ulong count) =>
        stream.Launch(_axpy, Linear(count), _arguments.Clear().Add(y).Add(x).Add(a).Add(count));

    /// <summary>y = W·x for a row-major <paramref name="rows"/> × <paramref name="cols"/> matrix, accumulating in fp32.</summary>
    public void Gemv(GpuStream stream, WeightType type, DevicePtr weights, DevicePtr x, DevicePtr y, uint rows, uint cols)
    {
        var function = type switch
        {
            WeightType.F32 => _gemvF32,
            WeightType.F16 => _gemvF16,
            WeightType.Bf16 => _gemvBf16,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        stream.Launch(function, WarpPerRow(rows), _arguments.Clear().Add(weights).Add(x).Add(y).Add(rows).Add(cols));
    }

    /// <summary>Keeps one block of the GPU busy for <paramref name="duration"/>, for scheduling tests and benchmarks.</summary>
    public void Spin(GpuStream stream, TimeSpan duration) =>
        stream.Launch(_spin, new LaunchConfig(1, 32), _arguments.Clear().Add((ulong)duration.TotalMicroseconds));

    /// <summary>
    /// Writes the checksum of <paramref name="bytes"/> bytes at <paramref name="data"/> (4-byte
    /// aligned) to the 8 bytes at <paramref name="result"/>, as <see cref="KernelReference.Checksum(ReadOnlySpan{byte})"/> computes it.
    /// </summary>
    public void Checksum(GpuStream stream, DevicePtr data, ulong bytes, DevicePtr result)
    {
        stream.Memset32(result, 0, 2);
        stream.Launch(_checksum, Linear((bytes + 3) / 4), _arguments.Clear().Add(data).Add(bytes).Add(result));
    }

    /// <summary>Gathers the f16 or bf16 rows of a <paramref name="vocab"/> × <paramref name="hidden"/> table named by <paramref name="tokens"/> u32 ids into f32 rows.</summary>
    public void Embedding(GpuStream stream, WeightType type, DevicePtr table, DevicePtr ids, DevicePtr output, uint tokens, uint vocab, uint hidden) =>
        stream.Launch(
            Half(type, _embeddingF16, _embeddingBf16),
            Linear((ulong)tokens * hidden),
            _arguments.Clear().Add(table).Add(ids).Add(output).Add(tokens).Add(vocab).Add(hidden));

    /// <summary>RMSNorm of each of <paramref name="rows"/> f32 rows with f16 or bf16 weights; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public void RmsNorm(GpuStream stream, WeightType type, DevicePtr x, DevicePtr w, DevicePtr y, uint rows, uint cols, float eps) =>
        stream.Launch(
            Half(type, _rmsNormF16, _rmsNormBf16),
            WarpPerRow(rows),
            _arguments.Clear().Add(x).Add(w).Add(y).Add(rows).Add(cols).Add(eps));

    /// <summary>Rotary embedding in place on <paramref name="tokens"/> rows of <paramref name="width"/> floats, heads of <paramref name="headDim"/>.</summary>
    public void Rope(GpuStream stream, DevicePtr x, DevicePtr positions, uint tokens, uint width, uint headDim, float theta) =>
        stream.Launch(
            _rope,
            Linear((ulong)tokens * (headDim < 2 ? 0 : width / headDim * (headDim / 2))),
            _arguments.Clear().Add(x).Add(positions).Add(tokens).Add(width).Add(headDim).Add(theta));

    /// <summary>output = silu(gate) × up over <paramref name="count"/> floats.</summary>
    public void Swiglu(GpuStream stream, DevicePtr gate, DevicePtr up, DevicePtr output, ulong count) =>
        stream.Launch(_swiglu, Linear(count), _arguments.Clear().Add(gate).Add(up).Add(output).Add(count));

    /// <summary>y += x over <paramref name="count"/> floats.</summary>
    public void Add(GpuStream stream, DevicePtr y, DevicePtr x, ulong count) =>
        stream.Launch(_add, Linear(count), _arguments.Clear().Add(y).Add(x).Add(count));

    /// <summary>Adds the f16 or bf16 <paramref name="bias"/> (cols values) to each of <paramref name="rows"/> f32 rows of <paramref name="y"/>.</summary>
    public void BiasAdd(GpuStream stream, WeightType type, DevicePtr y, DevicePtr bias, uint rows, uint cols) =>
        stream.Launch(
            Half(type, _biasAddF16, _biasAddBf16),
            Linear((ulong)rows * cols),
            _arguments.Clear().Add(y).Add(bias).Add(rows).Add(cols));

    /// <summary>The u32 column of each row's largest value, as <see cref="KernelReference.Argmax"/> defines it.</summary>
    public void Argmax(GpuStream stream, DevicePtr logits, DevicePtr output, uint rows, uint cols) =>
        stream.Launch(_argmax, WarpPerRow(rows), _arguments.Clear().Add(logits).Add(output).Add(rows).Add(cols));

    /// <summary>A seeded temperature, top-k and top-p draw from each row, as <see cref="KernelReference.Sample"/> defines it.</summary>
    public void Sample(GpuStream stream, DevicePtr logits, DevicePtr output, uint rows, uint cols, ulong seed, uint step, float temperature, uint topK, float topP) =>
        stream.Launch(
            _sample,
            WarpPerRow(rows),
            _arguments.Clear().Add(logits).Add(output).Add(rows).Add(cols).Add(seed).Add(step).Add(temperature).Add(topK).Add(topP));

    /// <summary>
    /// y[t] = W·x[t] for <paramref name="tokens"/> rows of x (tokens × cols) into y (tokens × rows),
    /// accumulating in fp32, as <see cref="KernelReference.Matmul"/> computes it.
    /// </summary>
    public void Matmul(GpuStream stream, WeightType type, DevicePtr weights, DevicePtr x, DevicePtr y, uint rows, uint cols, uint tokens)
    {
        var function = type switch
        {
            WeightType.F32 => _matmulF32,
            WeightType.F16 => _matmulF16,
            WeightType.Bf16 => _matmulBf16,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        // One warp per row and tile of 8 tokens.
        var warps = (ulong)rows * ((tokens + 7UL) / 8);
        var blocks = (uint)Math.Clamp((warps + WarpsPerBlock - 1) / WarpsPerBlock, 1, _maxBlocks);
        stream.Launch(function, new LaunchConfig(blocks, BlockSize), _arguments.Clear().Add(weights).Add(x).Add(y).Add(rows).Add(cols).Add(tokens));
    }

    /// <summary>
    /// Causal attention of one sequence's queries over its paged K and V caches, as
    /// <see cref="KernelReference.AttentionPagedF32"/> computes it (up to expf's error).
    /// </summary>
    public void AttentionPaged(GpuStream stream, DevicePtr q, DevicePtr kCache, DevicePtr vCache, DevicePtr pageTable, DevicePtr output, in PagedAttentionShape shape)
    {
        // One warp per query token and head.
        var warps = (ulong)shape.Tokens * shape.QHeads;
        var blocks = (uint)Math.Clamp((warps + WarpsPerBlock - 1) / WarpsPerBlock, 1, _maxBlocks);
        stream.Launch(_attentionPaged, new LaunchConfig(blocks, BlockSize), _arguments.Clear()
            .Add(q).Add(kCache).Add(vCache).Add(pageTable).Add(output)
            .Add(shape.Tokens).Add(shape.QHeads).Add(shape.KvHeads).Add(shape.HeadDim)
            .Add(shape.PageTokens).Add(shape.Pages).Add(shape.TablePages).Add(shape.StartPosition).Add(shape.Scale));
    }

    /// <summary>Stores one sequence's new K and V rows in their pages of the caches, as <see cref="KernelReference.KvAppendF32"/> does.</summary>
    public void KvAppend(GpuStream stream, DevicePtr kNew, DevicePtr vNew, DevicePtr kCache, DevicePtr vCache, DevicePtr pageTable, in KvAppendShape shape) =>
        stream.Launch(_kvAppend, Linear((ulong)shape.Tokens * shape.KvHeads * shape.HeadDim), _arguments.Clear()
            .Add(kNew).Add(vNew).Add(kCache).Add(vCache).Add(pageTable)
            .Add(shape.Tokens).Add(shape.KvHeads).Add(shape.HeadDim).Add(shape.PageTokens).Add(shape.Pages).Add(shape.TablePages).Add(shape.StartPosition));

    public void Dispose() => _module.Dispose();

    private LaunchConfig Linear(ulong elements) => LaunchConfig.Linear(elements, BlockSize, _maxBlocks);

    private LaunchConfig WarpPerRow(uint rows) => new(Math.Clamp((rows + WarpsPerBlock - 1) / WarpsPerBlock, 1, _maxBlocks), BlockSize);

    private static GpuFunction Half(WeightType type, GpuFunction f16, GpuFunction bf16) => type switch
    {
        WeightType.F16 => f16,
        WeightType.Bf16 => bf16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "these kernels take f16 or bf16 weights"),
    };

    private static KernelSource LoadSource()
    {
        var assembly = typeof(BuiltinKernels).Assembly;
        var code = new StringBuilder();
        // The shared definitions (native/kernels/*.cuh) go ahead of the kernels that use them.
        var resources = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .OrderBy(n => n.EndsWith(".cuh", StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(n => n, StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            var file = resource[ResourcePrefix.Length..];
            code.Append("#line 1 \"").Append(file).Append("\"\n").Append(ReadResource(assembly, resource)).Append('\n');
        }
        return new KernelSource("gpumux_builtin.cu", code.ToString());
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
