using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Client;

/// <summary>
/// A model the session registered: immutable weights that the daemon keeps in host memory and
/// copies onto the device for the steps bound to it (<see cref="StepBuilder.UseModel"/>).
/// Disposing it unregisters it, once the steps using it have finished.
/// </summary>
public sealed class ClientModel : IAsyncDisposable
{
    private SessionHandle _handle;

    internal ClientModel(GpuMuxClient owner, uint handle, string name, uint tensorCount, ulong bytes, ModelTier tier, uint groups)
    {
        _handle = new SessionHandle(owner, handle, nameof(ClientModel));
        Name = name;
        TensorCount = tensorCount;
        Bytes = bytes;
        Tier = tier;
        Groups = groups;
    }

    /// <summary>The daemon's handle for the model, for UseModel ops (docs/protocol.md §4.5).</summary>
    public uint Handle => _handle.Value;

    /// <summary>The name it was registered under, unique among the session's models.</summary>
    public string Name { get; }

    /// <summary>The tensors in the file.</summary>
    public uint TensorCount { get; }

    /// <summary>The size of the file's data section: what each swap onto the device copies.</summary>
    public ulong Bytes { get; }

    /// <summary>Where the weights wait between swaps: the daemon's pinned pool, or the file itself when the pool was full.</summary>
    public ModelTier Tier { get; }

    /// <summary>Layer groups: a launch waits only for the groups its tensors belong to while a swap is under way.</summary>
    public uint Groups { get; }

    /// <summary>Unregisters the model; the daemon lets it go once the steps using it have finished.</summary>
    public ValueTask DisposeAsync() =>
        _handle.TryMarkReleased() ? _handle.Owner.ReleaseAsync(MessageType.UnregisterModel, Handle) : ValueTask.CompletedTask;

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
