namespace GpuMux.Daemon.Connections;

/// <summary>
/// Counts the sessions past their handshake against the configured limit, and apart from it the
/// sessions that only read the reports, so that a daemon at its limit can still be looked at.
/// </summary>
internal sealed class SessionRegistry(int maxSessions)
{
    /// <summary>
    /// Inspecting sessions at once, beyond <c>Limits:MaxSessions</c>: a few operators and probes
    /// at a time. They hold nothing on the device, and each costs a connection's descriptors, which
    /// the descriptor budget's reserve covers.
    /// </summary>
    public const int MaxInspectingSessions = 16;

    private int _count;
    private int _inspecting;

    public int Limit(bool inspecting) => inspecting ? MaxInspectingSessions : maxSessions;

    public bool TryEnter(bool inspecting)
    {
        ref var count = ref inspecting ? ref _inspecting : ref _count;
        if (Interlocked.Increment(ref count) <= Limit(inspecting))
        {
            return true;
        }

        Interlocked.Decrement(ref count);
        return false;
    }

    public void Leave(bool inspecting) => Interlocked.Decrement(ref inspecting ? ref _inspecting : ref _count);
}
