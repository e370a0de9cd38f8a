using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>The process at the other end of a Unix socket, as the kernel recorded it when the connection was made.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    /// <summary>Reads SO_PEERCRED (a <c>struct ucred</c>: pid, uid, gid).</summary>
    internal static PeerCredentials Read(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[SizeOf.ucred];
        var length = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, ucred);
        if (length != SizeOf.ucred)
        {
            throw new InvalidOperationException($"SO_PEERCRED returned {length} bytes, not {SizeOf.ucred}");
        }

        return new PeerCredentials(
            MemoryMarshal.Read<int>(ucred),
            MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
    }
}
