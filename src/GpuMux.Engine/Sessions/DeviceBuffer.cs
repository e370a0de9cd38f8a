using GpuMux.Engine.Device;
using GpuMux.Engine.Memory;
using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// Device memory a session owns: pages of the device pool, mapped into a range of their own.
/// The handle outlives the memory behind it: after a device reset the buffer is allocated again,
/// from the new pool, at its size, and zeroed. A spillable buffer may also be spilled: its bytes
/// held in pinned host memory (<see cref="HostCopy"/>) while its range, at the same address,
/// has no pages behind it; see <see cref="BufferSpills"/>.
/// </summary>
internal sealed class DeviceBuffer(ulong length, ulong poolBytes, bool spillable = false) : IDisposable
{
    private DeviceContext? _device;
    private DeviceRange? _range;

    public ulong Length { get; } = length;

    /// <summary>What the buffer takes of the pool: its length in whole pages.</summary>
    public ulong PoolBytes { get; } = poolBytes;

    public bool Spillable { get; } = spillable;

    /// <summary>Its handle in its session, which steps name it by.</summary>
    public uint Handle { get; set; }

    /// <summary>Freed by a request that waits for the session's queued steps to start first; requests no longer see it.</summary>
    public bool Releasing { get; set; }

    /// <summary>The lease it was allocated under, which frees it when it expires; null for none.</summary>
    public Tenants.Lease? Lease { get; set; }

    /// <summary>When it was allocated or a step naming it last started, on the host clock: spills go least recently used first.</summary>
    public long LastUsedNs { get; set; }

    /// <summary>Its bytes while it is spilled; null while they are on the device.</summary>
    public SpilledCopy? HostCopy { get; set; }

    /// <summary>
    /// A spillable buffer's: recorded on its session's stream after its zeroing, then on the copy
    /// stream after each restore, so a spill waits for the last work queued on it and no more (the
    /// steps that named it have completed, or it would not be a victim).
    /// </summary>
    public GpuEvent? CopyEvent { get; private set; }

    public bool IsSpilled => HostCopy is not null;

    public DeviceRange? Range => _range;

    public DevicePtr Pointer => (_range ?? throw new InvalidOperationException("the buffer has no device memory")).Start;

    /// <summary>
    /// Takes <paramref name="range"/>, mapped in <paramref name="device"/>'s pool, and zeroes it on
    /// <paramref name="stream"/>, the session's, so the zeroing is done before any of its steps:
    /// the pool hands pages back as their last owner, perhaps another session, left them.
    /// </summary>
    public void Attach(DeviceContext device, DeviceRange range, GpuStream stream)
    {
        _device = device;
        _range = range;
        stream.Memset8(range.Start, 0, Length);
        if (Spillable)
        {
            CopyEvent = device.Context.CreateEvent(enableTiming: false);
            stream.Record(CopyEvent);
        }
    }

    /// <summary>
    /// After a device reset, a buffer that was spilled stays spilled, in <paramref name="range"/>
    /// (reserved, unmapped) of the new pool, and reads as zero like every other buffer.
    /// </summary>
    public void AttachSpilled(DeviceContext device, DeviceRange range)
    {
        _device = device;
        _range = range;
        CopyEvent = device.Context.CreateEvent(enableTiming: false);
        HostCopy!.Clear();
    }

    /// <summary>Gives the pages back to the pool, unless a fault has made the pool useless, in which case they go with it.</summary>
    public void Detach()
    {
        if (_range is { } range && _device is { IsFaulted: false } device)
        {
            device.Pool.Release(range);
        }
        _range = null;
        _device = null;
        // Events belong to the context they were made on.
        CopyEvent?.Dispose();
        CopyEvent = null;
    }

    /// <summary>Frees the device range and, for a spilled buffer, its host copy.</summary>
    public void Dispose()
    {
        Detach();
        HostCopy?.Free();
        HostCopy = null;
    }
}
