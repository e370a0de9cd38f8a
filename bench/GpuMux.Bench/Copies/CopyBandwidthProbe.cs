using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Copies;

/// <summary>
/// Times copies of one size between the host and one device buffer, on one stream, with a pair
/// of events around each copy: the events read the device's clock, so host-side launch and
/// synchronisation costs stay out of the figures. Use from the context's thread.
/// </summary>
internal sealed class CopyBandwidthProbe : IDisposable
{
    private readonly GpuContext _context;
    private readonly ulong _bytes;
    private readonly GpuStream _stream;
    private readonly GpuEvent _start;
    private readonly GpuEvent _end;
    private readonly BuiltinKernels _kernels;
    private readonly DeviceAllocation _device;
    private readonly DeviceAllocation _deviceChecksums;

    public CopyBandwidthProbe(GpuContext context, ulong bytes)
    {
        _context = context;
        _bytes = bytes;
        _stream = context.CreateStream();
        _start = context.CreateEvent();
        _end = context.CreateEvent();
        _kernels = BuiltinKernels.Load(context);
        _device = context.Allocate(bytes);
        _deviceChecksums = context.Allocate((ulong)HostBuffer.ChunkCount(bytes) * sizeof(ulong));
    }

    public CopyMeasurement Measure(CopyCase copy, int warmup, int repeats, int seed)
    {
        using var host = HostBuffer.Allocate(_context, copy.Memory, _bytes);
        host.FillRandom(seed);
        var expected = host.ChunkChecksums();
        if (copy.Direction == CopyDirection.DeviceToHost)
        {
            _stream.CopyToDevice(_device.Pointer, host.Pointer, _bytes);
        }
        for (var i = 0; i < warmup; i++)
        {
            Copy(copy.Direction, host);
        }
        // Only the timed copies may put the data in place, so that verification covers them.
        ClearDestination(copy.Direction, host);

        var milliseconds = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            _stream.Record(_start);
            Copy(copy.Direction, host);
            _stream.Record(_end);
            _end.Synchronize();
            milliseconds[i] = GpuEvent.ElapsedMilliseconds(_start, _end);
        }
        return new CopyMeasurement(copy, _bytes, milliseconds, expected, DestinationChecksums(copy.Direction, host));
    }

    public void Dispose()
    {
        _deviceChecksums.Dispose();
        _device.Dispose();
        _kernels.Dispose();
        _end.Dispose();
        _start.Dispose();
        _stream.Dispose();
    }

    private void Copy(CopyDirection direction, HostBuffer host)
    {
        if (direction == CopyDirection.HostToDevice)
        {
            _stream.CopyToDevice(_device.Pointer, host.Pointer, _bytes);
        }
        else
        {
            _stream.CopyToHost(host.Pointer, _device.Pointer, _bytes);
        }
    }

    private void ClearDestination(CopyDirection direction, HostBuffer host)
    {
        if (direction == CopyDirection.HostToDevice)
        {
            _stream.Memset8(_device.Pointer, 0, _bytes);
            _stream.Synchronize();
        }
        else
        {
            _stream.Synchronize();
            host.Clear();
        }
    }

    private ulong[] DestinationChecksums(CopyDirection direction, HostBuffer host)
    {
        if (direction == CopyDirection.DeviceToHost)
        {
            return host.ChunkChecksums();
        }
        var checksums = new ulong[HostBuffer.ChunkCount(_bytes)];
        for (var i = 0; i < checksums.Length; i++)
        {
            var offset = (ulong)i * HostBuffer.ChunkBytes;
            var length = Math.Min(HostBuffer.ChunkBytes, _bytes - offset);
            _kernels.Checksum(_stream, _device.Pointer + offset, length, _deviceChecksums.Pointer + (ulong)i * sizeof(ulong));
        }
        _stream.Download<ulong>(checksums, _deviceChecksums.Pointer);
        return checksums;
    }
}
