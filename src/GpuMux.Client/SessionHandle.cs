namespace GpuMux.Client;

/// <summary>
/// A handle and the client whose session it belongs to. Handles are numbered per session, so a
/// handle used on another client's connection would silently name something else: every use checks.
/// </summary>
internal struct SessionHandle(GpuMuxClient owner, uint value, string kind)
{
    private int _released;

    public readonly GpuMuxClient Owner => owner;

    public readonly uint Value => value;

    // A plain read: this only catches use after dispose, and Interlocked.Exchange publishes the write.
    public readonly bool IsReleased => _released != 0;

    public readonly uint For(GpuMuxClient client)
    {
        ObjectDisposedException.ThrowIf(IsReleased, kind);
        if (!ReferenceEquals(client, owner))
        {
            throw new ArgumentException($"{kind} {value} belongs to another client's session", kind);
        }

        return value;
    }

    /// <summary>True for the first caller only, who then releases the handle on the daemon.</summary>
    public bool TryMarkReleased() => Interlocked.Exchange(ref _released, 1) == 0;
}
