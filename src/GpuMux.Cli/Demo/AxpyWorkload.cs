using System.Runtime.InteropServices;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Cli.Demo;

/// <summary><c>y = a·x + y</c> over 64 Ki floats: x and y copied in, y copied out, every step.</summary>
internal sealed class AxpyWorkload(int seed) : DemoWorkload(seed)
{
    private const int Count = 64 * 1024;
    private const ulong VectorBytes = Count * sizeof(float);

    private readonly float[] _expected = new float[Count];
    private float[] _inputs = [];
    private DeviceBuffer? _x;
    private DeviceBuffer? _y;
    private KernelFunction? _axpy;

    public override string Name => "axpy 64Ki";

    protected override ulong RegionBytes => 2 * VectorBytes;

    protected override async Task PrepareDeviceAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        // x and y are windows onto one pool of random numbers, at a new offset each step:
        // fresh inputs for the price of a copy.
        _inputs = new float[3 * Count];
        FillRandom(_inputs);
        _x = await client.AllocateBufferAsync(VectorBytes, cancellationToken);
        _y = await client.AllocateBufferAsync(VectorBytes, cancellationToken);
        _axpy = await client.GetBuiltinAsync(KernelNames.AxpyF32, cancellationToken);
    }

    public override void BuildStep(StepBuilder step, int index)
    {
        var offset = Random.Next(Count);
        var x = Region.AsSpan<float>(0, Count);
        var y = Region.AsSpan<float>(VectorBytes, Count);
        _inputs.AsSpan(offset, Count).CopyTo(x);
        _inputs.AsSpan(offset + Count, Count).CopyTo(y);
        var a = Random.NextSingle() * 4;
        y.CopyTo(_expected);
        KernelReference.Axpy(_expected, x, a);

        step.CopyIn(Region, 0, _x!, 0, VectorBytes)
            .CopyIn(Region, VectorBytes, _y!, 0, VectorBytes)
            .Launch(_axpy!, GridFor(Count), BlockSize).Buffer(_y!).Buffer(_x!).Float32(a).UInt64(Count)
            .CopyOut(_y!, 0, Region, VectorBytes, VectorBytes);
    }

    public override bool Verify() =>
        MemoryMarshal.AsBytes(Region.AsSpan<float>(VectorBytes, Count)).SequenceEqual(MemoryMarshal.AsBytes(_expected.AsSpan()));
}
