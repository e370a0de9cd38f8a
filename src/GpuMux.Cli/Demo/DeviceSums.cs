using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Cli.Demo;

/// <summary>
/// The ops that checksum a buffer on the device into a region: zero the one-u64 result (two
/// floats of 0.0f are 8 zero bytes), launch <c>checksum</c>, which adds into it, and copy it out.
/// </summary>
internal sealed class DeviceSums
{
    public const ulong ResultBytes = sizeof(ulong);

    private DeviceBuffer? _result;
    private KernelFunction? _fill;
    private KernelFunction? _checksum;

    public async Task PrepareAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        _result = await client.AllocateBufferAsync(ResultBytes, cancellationToken);
        _fill = await client.GetBuiltinAsync(KernelNames.FillF32, cancellationToken);
        _checksum = await client.GetBuiltinAsync(KernelNames.Checksum, cancellationToken);
    }

    public void Add(StepBuilder step, DeviceBuffer data, ulong bytes, SharedRegion region, ulong regionOffset)
    {
        var result = _result ?? throw new InvalidOperationException("the checksum has not been prepared");
        step.Launch(_fill!, 1, 32).Buffer(result).Float32(0).UInt64(ResultBytes / sizeof(float))
            .Launch(_checksum!, DemoWorkload.GridFor(bytes / sizeof(uint)), DemoWorkload.BlockSize).Buffer(data).UInt64(bytes).Buffer(result)
            .CopyOut(result, 0, region, regionOffset, ResultBytes);
    }
}
