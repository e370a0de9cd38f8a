using System.Runtime.InteropServices;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Cli.Demo;

/// <summary>
/// Fills 1 MiB of device memory with one of a few values each step and checks it where it lies:
/// only the 8-byte checksum comes back, so the data itself never crosses the bus.
/// </summary>
internal sealed class FillChecksumWorkload(int seed) : DemoWorkload(seed)
{
    private const int Count = 256 * 1024;
    private const ulong DataBytes = Count * sizeof(float);
    private const int DistinctValues = 16;

    private readonly DeviceSums _sums = new();

    // The expected checksum of each value, worked out the first time the value comes up.
    private readonly Dictionary<float, ulong> _checksums = [];
    private ulong _expected;
    private DeviceBuffer? _data;
    private KernelFunction? _fill;

    public override string Name => "fill+sum 1MiB";

    protected override ulong RegionBytes => DeviceSums.ResultBytes;

    protected override async Task PrepareDeviceAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        _data = await client.AllocateBufferAsync(DataBytes, cancellationToken);
        _fill = await client.GetBuiltinAsync(KernelNames.FillF32, cancellationToken);
        await _sums.PrepareAsync(client, cancellationToken);
    }

    public override void BuildStep(StepBuilder step, int index)
    {
        var value = Random.Next(DistinctValues) - (DistinctValues / 2) + 0.375f;
        if (!_checksums.TryGetValue(value, out _expected))
        {
            var filled = new float[Count];
            KernelReference.Fill(filled, value);
            _expected = _checksums[value] = KernelReference.Checksum(MemoryMarshal.AsBytes(filled.AsSpan()));
        }

        step.Launch(_fill!, GridFor(Count), BlockSize).Buffer(_data!).Float32(value).UInt64(Count);
        _sums.Add(step, _data!, DataBytes, Region, 0);
    }

    public override bool Verify() => Region.AsSpan<ulong>(0, 1)[0] == _expected;
}
