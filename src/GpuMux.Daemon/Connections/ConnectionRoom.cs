using GpuMux.Engine;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Takes a connection's descriptors out of the clients' <see cref="DescriptorBudget"/> before the
/// accept that opens it, so the process never runs out: while there is no room the accept loop
/// waits, and clients wait in the socket's backlog. A run without room is logged twice: when an
/// accept first has to wait, and when a connection that closes leaves room free.
/// </summary>
internal sealed class ConnectionRoom(DescriptorBudget descriptors, TimeProvider time, ILogger logger)
{
    private readonly Lock _gate = new();
    private long _fullSince = -1;

    /// <summary>Room for one more connection, once there is some.</summary>
    public async Task TakeAsync(CancellationToken cancellationToken)
    {
        if (descriptors.TryTake(ClientDescriptors.PerConnection))
        {
            return;
        }

        lock (_gate)
        {
            if (_fullSince < 0)
            {
                _fullSince = time.GetTimestamp();
                ConnectionRoomLog.Full(logger, descriptors.Capacity, ClientDescriptors.PerConnection);
            }
        }
        await descriptors.TakeAsync(ClientDescriptors.PerConnection, cancellationToken);
    }

    /// <summary>A connection has closed its socket and every descriptor it was sent.</summary>
    public void Return()
    {
        descriptors.Return(ClientDescriptors.PerConnection);
        lock (_gate)
        {
            if (_fullSince >= 0 && descriptors.Capacity - descriptors.InUse >= ClientDescriptors.PerConnection)
            {
                ConnectionRoomLog.RoomAgain(logger, (long)time.GetElapsedTime(_fullSince).TotalMilliseconds);
                _fullSince = -1;
            }
        }
    }
}

internal static partial class ConnectionRoomLog
{
    [LoggerMessage(EventId = 306, Level = LogLevel.Warning, Message = "Not accepting connections: clients hold the {Capacity} descriptors that the descriptor limit (RLIMIT_NOFILE) leaves them (a connection counts {PerConnection}, its socket and what a frame may carry; a model kept as a file counts 1). Clients wait in the socket's backlog until connections close; logged once more when there is room again")]
    public static partial void Full(ILogger logger, int capacity, int perConnection);

    [LoggerMessage(EventId = 307, Level = LogLevel.Information, Message = "Accepting connections again: there is room for more, after {ElapsedMs} ms without")]
    public static partial void RoomAgain(ILogger logger, long elapsedMs);
}
