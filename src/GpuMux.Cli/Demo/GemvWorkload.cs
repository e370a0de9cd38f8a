using System.Runtime.InteropServices;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Cli.Demo;

/// <summary>
/// A decode-step-like <c>y = W·x</c>: fp16 weights (512 × 256) uploaded once and kept on the
/// device, a new x copied in and y copied out every step.
/// </summary>
internal sealed class GemvWorkload(int seed) : DemoWorkload(seed)
{
    private const int Rows = 512;
    private const int Columns = 256;
    private const ulong WeightBytes = Rows * Columns * sizeof(ushort);
    private const ulong InputOffset = WeightBytes;
    private const ulong InputBytes = Columns * sizeof(float);
    private const ulong OutputOffset = InputOffset + InputBytes;
    private const ulong OutputBytes = Rows * sizeof(float);
    private const int WarpsPerBlock = (int)BlockSize / 32;

    private readonly float[] _expected = new float[Rows];
    private byte[] _weights = [];
    private DeviceBuffer? _w;
    private DeviceBuffer? _x;
    private DeviceBuffer? _y;
    private KernelFunction? _gemv;

    public override string Name => "gemv f16 512x256";

    protected override ulong RegionBytes => OutputOffset + OutputBytes;

    protected override async Task PrepareDeviceAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        var weights = new float[Rows * Columns];
        FillRandom(weights);
        _weights = KernelReference.EncodeWeights(WeightType.F16, weights);
        _weights.CopyTo(Region.AsSpan(0, _weights.Length));

        _w = await client.AllocateBufferAsync(WeightBytes, cancellationToken);
        _x = await client.AllocateBufferAsync(InputBytes, cancellationToken);
        _y = await client.AllocateBufferAsync(OutputBytes, cancellationToken);
        _gemv = await client.GetBuiltinAsync(KernelNames.GemvF16, cancellationToken);
        await client.SubmitAsync(new StepBuilder().CopyIn(Region, 0, _w, 0, WeightBytes), cancellationToken);
    }

    public override void BuildStep(StepBuilder step, int index)
    {
        var x = Region.AsSpan<float>(InputOffset, Columns);
        FillRandom(x);
        KernelReference.Gemv(WeightType.F16, _weights, x, _expected, Rows, Columns);

        step.CopyIn(Region, InputOffset, _x!, 0, InputBytes)
            .Launch(_gemv!, (Rows + WarpsPerBlock - 1) / WarpsPerBlock, BlockSize).Buffer(_w!).Buffer(_x!).Buffer(_y!).UInt32(Rows).UInt32(Columns)
            .CopyOut(_y!, 0, Region, OutputOffset, OutputBytes);
    }

    public override bool Verify() =>
        MemoryMarshal.AsBytes(Region.AsSpan<float>(OutputOffset, Rows)).SequenceEqual(MemoryMarshal.AsBytes(_expected.AsSpan()));
}
