using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Cli.Demo;

/// <summary>
/// A 64-bit checksum of a 1 MiB region, copied in whole every step after one page of it has been
/// rewritten: a large copy in, a small result out. The expected sum is kept up to date page by
/// page, since the checksum of a whole is the sum of its chunks' checksums.
/// <see cref="DeviceSums"/> supplies the zeroing and the checksum launch.
/// </summary>
internal sealed class ChecksumWorkload(int seed) : DemoWorkload(seed)
{
    private const int DataBytes = 1 << 20;
    private const int PageBytes = 4096;

    private readonly DeviceSums _sums = new();
    private ulong _expected;
    private DeviceBuffer? _data;

    public override string Name => "checksum 1MiB";

    protected override ulong RegionBytes => DataBytes + DeviceSums.ResultBytes;

    protected override async Task PrepareDeviceAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        FillRandom(Region.AsSpan<long>(0, DataBytes / sizeof(long)));
        _expected = KernelReference.Checksum(Region.AsSpan(0, DataBytes));
        _data = await client.AllocateBufferAsync(DataBytes, cancellationToken);
        await _sums.PrepareAsync(client, cancellationToken);
    }

    public override void BuildStep(StepBuilder step, int index)
    {
        var offset = Random.Next(DataBytes / PageBytes) * PageBytes;
        var firstWord = (ulong)(offset / sizeof(uint));
        var page = Region.AsSpan((ulong)offset, PageBytes);
        unchecked
        {
            _expected -= KernelReference.Checksum(page, firstWord);
            FillRandom(Region.AsSpan<long>((ulong)offset, PageBytes / sizeof(long)));
            _expected += KernelReference.Checksum(page, firstWord);
        }

        step.CopyIn(Region, 0, _data!, 0, DataBytes);
        _sums.Add(step, _data!, DataBytes, Region, DataBytes);
    }

    public override bool Verify() => Region.AsSpan<ulong>(DataBytes, 1)[0] == _expected;
}
