using System.Collections.Concurrent;
using GpuMux.Daemon.Connections;
using GpuMux.Protocol.Transport;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Makes the daemon take the next clients that say Hello for other users than the one the tests
/// run as; the others it identifies as it does in production, by asking the kernel.
/// </summary>
internal sealed class PresentedPeers(IPeerIdentification kernel) : IPeerIdentification
{
    private readonly ConcurrentQueue<PeerIdentity> _next = new();

    public void PresentNext(PeerIdentity identity) => _next.Enqueue(identity);

    public PeerIdentity Identify(FrameConnection connection) =>
        _next.TryDequeue(out var identity) ? identity : kernel.Identify(connection);
}
