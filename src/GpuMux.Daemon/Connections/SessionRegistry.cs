namespace GpuMux.Daemon.Connections;

/// <summary>Counts the sessions past their handshake, against the configured limit.</summary>
internal sealed class SessionRegistry(int maxSessions)
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _count) <= maxSessions)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _count);
}
