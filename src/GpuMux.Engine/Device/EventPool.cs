using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>Events of one kind (timing enabled or not) for the engine to reuse, so that a warm engine creates none per step.</summary>
internal sealed class EventPool(GpuContext context, bool enableTiming) : IDisposable
{
    private readonly Stack<GpuEvent> _free = new();
    private bool _disposed;

    public GpuEvent Rent() => _free.TryPop(out var marker) ? marker : context.CreateEvent(enableTiming);

    /// <summary>Takes an event back; one from an earlier context, or any after disposal, is disposed instead.</summary>
    public void Return(GpuEvent marker)
    {
        if (_disposed || marker.Context != context)
        {
            marker.Dispose();
            return;
        }
        _free.Push(marker);
    }

    public void Dispose()
    {
        _disposed = true;
        while (_free.TryPop(out var marker))
        {
            marker.Dispose();
        }
    }
}
