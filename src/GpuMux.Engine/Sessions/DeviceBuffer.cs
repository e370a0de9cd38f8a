using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// Device memory a session owns. The handle outlives the allocation behind it: after a device
/// reset the buffer is allocated again, at its size, and zeroed.
/// </summary>
internal sealed class DeviceBuffer(ulong length) : IDisposable
{
    private DeviceAllocation? _allocation;

    public ulong Length { get; } = length;

    public DevicePtr Pointer => (_allocation ?? throw new InvalidOperationException("the buffer has no device memory")).Pointer;

    /// <summary>
    /// Allocates the memory and zeroes it on <paramref name="stream"/>, the session's, so the
    /// zeroing is done before any of its steps: the driver hands memory back as its last owner,
    /// perhaps another session, left it.
    /// </summary>
    public GpuStatus TryAttach(GpuContext context, GpuStream stream)
    {
        var status = context.TryAllocate(Length, out _allocation);
        if (status == GpuStatus.Success)
        {
            stream.Memset8(_allocation!.Pointer, 0, Length);
        }
        return status;
    }

    public void Detach()
    {
        _allocation?.Dispose();
        _allocation = null;
    }

    public void Dispose() => Detach();
}
