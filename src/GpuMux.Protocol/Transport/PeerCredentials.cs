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

    /// <summary>
    /// Reads SO_PEERGROUPS (Linux 4.13 and later): the peer's supplementary groups when it connected,
    /// as an array of gid_t.
    /// </summary>
    internal static uint[] ReadGroups(Socket socket)
    {
        Span<byte> few = stackalloc byte[64 * sizeof(uint)];
        int length;
        try
        {
            length = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERGROUPS, few);
        }
        catch (SocketException)
        {
            // ERANGE: more groups than fit; room for NGROUPS_MAX takes them all.
            var all = new byte[65_536 * sizeof(uint)];
            length = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERGROUPS, all);
            return MemoryMarshal.Cast<byte, uint>(all.AsSpan(0, length)).ToArray();
        }

        return MemoryMarshal.Cast<byte, uint>(few[..length]).ToArray();
    }
}
