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

    /// <summary>The daemon's handle for the buffer, as copies and buffer arguments name it.</summary>
    public uint Handle => _handle.Value;

    /// <summary>The bytes asked for.</summary>
    public ulong Length { get; }

    /// <summary>Frees the buffer; the daemon frees it once the steps using it have finished.</summary>
    public ValueTask DisposeAsync() =>
        _handle.TryMarkReleased() ? _handle.Owner.ReleaseAsync(MessageType.FreeBuffer, Handle) : ValueTask.CompletedTask;

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
