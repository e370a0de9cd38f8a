using GpuMux.Protocol;

namespace GpuMux.Client;

/// <summary>Device memory held by the session, zeroed when allocated; disposing it frees it on the daemon.</summary>
public sealed class DeviceBuffer : IAsyncDisposable
{
    private SessionHandle _handle;

    internal DeviceBuffer(GpuMuxClient owner, uint handle, ulong length)
    {
        _handle = new SessionHandle(owner, handle, nameof(DeviceBuffer));
        Length = length;
    }

    public uint Handle => _handle.Value;

    public ulong Length { get; }

    public ValueTask DisposeAsync() =>
        _handle.TryMarkReleased() ? _handle.Owner.ReleaseAsync(MessageType.FreeBuffer, Handle) : ValueTask.CompletedTask;

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
