using System.Net.Sockets;
using GpuMux.Linux;
using GpuMux.Protocol.Transport;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Tests.Transport;

/// <summary>Connected socket pairs (socketpair), as frame connections or as a connection and a raw peer.</summary>
internal static unsafe class SocketPairs
{
    public const int DefaultMaxPayload = 1 << 20;

    public static (Socket First, Socket Second) Sockets()
    {
        var descriptors = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, descriptors) != 0)
        {
            throw new LinuxException("socketpair", errno);
        }

        return (new Socket(new SafeSocketHandle(descriptors[0], ownsHandle: true)),
            new Socket(new SafeSocketHandle(descriptors[1], ownsHandle: true)));
    }

    public static (FrameConnection First, FrameConnection Second) Connections(int maxPayloadBytes = DefaultMaxPayload)
    {
        var (first, second) = Sockets();
        return (new FrameConnection(first, maxPayloadBytes), new FrameConnection(second, maxPayloadBytes));
    }

    /// <summary>A frame connection whose peer writes raw bytes, to break the framing on purpose.</summary>
    public static (FrameConnection Connection, RawPeer Peer) WithRawPeer(int maxPayloadBytes = DefaultMaxPayload)
    {
        var descriptors = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, descriptors) != 0)
        {
            throw new LinuxException("socketpair", errno);
        }

        var connection = new FrameConnection(new Socket(new SafeSocketHandle(descriptors[0], ownsHandle: true)), maxPayloadBytes);
        return (connection, new RawPeer(descriptors[1]));
    }
}
