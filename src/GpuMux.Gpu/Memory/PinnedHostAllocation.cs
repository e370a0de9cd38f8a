namespace GpuMux.Gpu;

/// <summary>
/// Page-locked host memory the device can read and write by DMA: copies from it run at the
/// bus's full speed and are truly asynchronous. Freed on dispose.
/// </summary>
public abstract unsafe class PinnedHostAllocation(GpuContext context, nint pointer, ulong length) : GpuContextResource(context)
{
    public nint Pointer { get; } = pointer;

    public ulong Length { get; } = length;

    public Span<T> AsSpan<T>()
        where T : unmanaged
    {
        ThrowIfDisposed();
        return new Span<T>((void*)Pointer, checked((int)(Length / (ulong)sizeof(T))));
    }
}
