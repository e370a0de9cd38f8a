namespace GpuMux.Gpu.Sim;

internal enum SimCopyDirection
{
    ToDevice,
    ToHost,
    OnDevice,
}

/// <summary>
/// A copy. It reads and writes host memory when the engine reaches it, not when it is queued:
/// the strictest reading of CUDA's asynchronous copies, so code that reuses a buffer too early
/// or reads a result before synchronising fails here rather than only on some hardware.
/// </summary>
internal sealed unsafe class SimCopy(SimStream stream, SimCopyDirection direction, ulong destination, ulong source, ulong bytes, double bytesPerSecond)
    : SimOperation(stream)
{
    public override SimEngine Engine => direction switch
    {
        SimCopyDirection.ToDevice => SimEngine.CopyIn,
        SimCopyDirection.ToHost => SimEngine.CopyOut,
        _ => SimEngine.Compute,
    };

    public override long Execute(SimMemory memory, SimDeviceOptions device)
    {
        var to = direction == SimCopyDirection.ToHost ? (nint)destination : memory.Resolve(new DevicePtr(destination), bytes, write: true);
        var from = direction == SimCopyDirection.ToDevice ? (nint)source : memory.Resolve(new DevicePtr(source), bytes, write: false);
        Buffer.MemoryCopy((void*)from, (void*)to, bytes, bytes);
        return SimClock.Ticks(device.OperationLatency) + SimClock.Ticks(bytes / bytesPerSecond);
    }
}
