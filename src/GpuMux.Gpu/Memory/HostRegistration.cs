namespace GpuMux.Gpu;

/// <summary>
/// Existing host pages (a client's shared memory, say) registered as pinned with the device, so
/// that copies from them are DMA. Unregistered on dispose; the pages themselves stay the caller's.
/// </summary>
public abstract class HostRegistration(GpuContext context, nint pointer, ulong length) : GpuContextResource(context)
{
    public nint Pointer { get; } = pointer;

    public ulong Length { get; } = length;
}
