using GpuMux.Gpu;
using GpuMux.Linux;

namespace GpuMux.Engine.Memory;

/// <summary>
/// Host memory the daemon maps itself (plain <c>mmap</c>) and registers as pinned with one
/// context at a time. The pages are the daemon's, not the context's: after a device reset they
/// are registered with the new context, bytes intact, where memory from
/// <see cref="GpuContext.AllocatePinned"/> would have died with the old one.
/// </summary>
internal sealed class RegisteredHostMemory : IDisposable
{
    private readonly nint _mapping;
    private readonly ulong _mappingLength;
    private HostRegistration? _registration;
    private bool _disposed;

    /// <summary>
    /// <paramref name="bytes"/> (none at all when 0) at an address aligned to
    /// <paramref name="alignment"/>, a power of two, registered with <paramref name="context"/>.
    /// </summary>
    public RegisteredHostMemory(GpuContext context, ulong bytes, ulong alignment)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pageSize = (ulong)PageMappings.PageSize;
        Length = RoundUp(bytes, pageSize);
        if (Length == 0)
        {
            return;
        }
        // mmap aligns to pages only; a larger alignment is had by mapping one alignment more and starting inside.
        _mappingLength = Length + (alignment > pageSize ? alignment : 0);
        _mapping = PageMappings.MapAnonymous((nuint)_mappingLength);
        Pointer = (nint)RoundUp((ulong)_mapping, Math.Max(alignment, pageSize));
        try
        {
            PlaceNearDevice(context.Device);
            Reattach(context);
        }
        catch
        {
            PageMappings.Unmap(_mapping, (nuint)_mappingLength);
            throw;
        }
    }

    /// <summary>The start of the memory; 0 when there is none.</summary>
    public nint Pointer { get; }

    /// <summary>The bytes asked for, rounded up to whole host pages.</summary>
    public ulong Length { get; }

    // Copies from pinned memory on the GPU's own socket do not cross the interconnect; on a machine
    // with one NUMA node there is nothing to choose.
    private void PlaceNearDevice(GpuDeviceInfo device)
    {
        if (NumaPlacement.NodeCount() > 1 && NumaPlacement.NodeOfPciDevice(device.PciBusId) is { } node)
        {
            NumaPlacement.TouchOnNode(_mapping, (nuint)_mappingLength, node);
        }
    }

    /// <summary>
    /// Drops the registration with the current context, which may be dead, and registers the same
    /// pages with <paramref name="context"/>, from that context's thread.
    /// </summary>
    public void Reattach(GpuContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Never throws: a registration whose context is gone is dropped (see GpuResource).
        _registration?.Dispose();
        _registration = null;
        if (Length > 0)
        {
            _registration = context.RegisterHostMemory(Pointer, Length);
        }
    }

    /// <summary>Unregisters and unmaps the memory; no copy from it may be in flight.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _registration?.Dispose();
        _registration = null;
        if (_mapping != 0)
        {
            PageMappings.Unmap(_mapping, (nuint)_mappingLength);
        }
    }

    private static ulong RoundUp(ulong value, ulong unit) => checked(value + unit - 1) / unit * unit;
}
