using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// A client's shared memory, mapped into the daemon and pinned for DMA. The mapping lasts as long
/// as the region; the pinning belongs to a context and is made again after a device reset.
/// </summary>
internal sealed class SharedRegion(SharedFileMapping mapping) : IDisposable
{
    private HostRegistration? _registration;

    public nint Pointer => mapping.Pointer;

    public ulong Length => mapping.Length;

    /// <summary>Released by a request that waits for the session's queued steps to start first; requests no longer see it.</summary>
    public bool Releasing { get; set; }

    public void Attach(GpuContext context) => _registration = context.RegisterHostMemory(mapping.Pointer, mapping.Length);

    public void Detach()
    {
        _registration?.Dispose();
        _registration = null;
    }

    public void Dispose()
    {
        Detach();
        mapping.Dispose();
    }
}
