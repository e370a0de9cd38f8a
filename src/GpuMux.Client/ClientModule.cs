using GpuMux.Protocol;

namespace GpuMux.Client;

/// <summary>A module the session loaded; disposing it unloads it.</summary>
public sealed class ClientModule : IAsyncDisposable
{
    private SessionHandle _handle;

    internal ClientModule(GpuMuxClient owner, uint handle, string name, bool fromCache, string compileLog)
    {
        _handle = new SessionHandle(owner, handle, nameof(ClientModule));
        Name = name;
        FromCache = fromCache;
        CompileLog = compileLog;
    }

    /// <summary>The daemon's handle for the module.</summary>
    public uint Handle => _handle.Value;

    /// <summary>The name it was loaded under, for the compiler's log and the daemon's.</summary>
    public string Name { get; }

    /// <summary>The daemon found the compiled module in its cache and skipped the compile.</summary>
    public bool FromCache { get; }

    /// <summary>NVRTC's warnings, empty when there were none.</summary>
    public string CompileLog { get; }

    /// <summary>Unloads the module; the daemon lets it go once the steps using it have finished.</summary>
    public ValueTask DisposeAsync() =>
        _handle.TryMarkReleased() ? _handle.Owner.ReleaseAsync(MessageType.UnloadModule, Handle) : ValueTask.CompletedTask;

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
