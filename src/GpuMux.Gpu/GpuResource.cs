namespace GpuMux.Gpu;

/// <summary>
/// Something a backend owns on the device or in the driver. Disposing releases it once, from any
/// thread, and never throws; a release the driver refuses is dropped, since the caller could do
/// nothing better with it.
/// </summary>
public abstract class GpuResource : IDisposable
{
    private int _disposed;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();

    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}
