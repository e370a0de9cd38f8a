using System.Net.Sockets;
using GpuMux.Daemon.Configuration;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static Tmds.Linux.LibC;

namespace GpuMux.Daemon.Connections;

/// <summary>Who a client is, and whether it may see every tenant in the operator reports.</summary>
internal readonly record struct PeerIdentity(PeerCredentials Credentials, bool SeesEveryTenant);

/// <summary>
/// Tells who the client of a connection that has said Hello is. The daemon asks the kernel
/// (<see cref="SocketPeerIdentification"/>); tests put another in its place to present users
/// other than the one they run as.
/// </summary>
internal interface IPeerIdentification
{
    PeerIdentity Identify(FrameConnection connection);
}

/// <summary>
/// The kernel's word on a client: its credentials (SO_PEERCRED), and whether it administers the
/// daemon: it is root, or the daemon's own user, or a member of <c>Admin:Group</c> by its primary
/// group or one of its supplementary groups (SO_PEERGROUPS), as they were when it connected.
/// </summary>
internal sealed class SocketPeerIdentification : IPeerIdentification
{
    private readonly uint _daemonUid = geteuid();
    private readonly uint? _adminGroup;

    public SocketPeerIdentification(IOptions<AdminOptions> admin, ILogger<SocketPeerIdentification> logger)
    {
        var group = admin.Value.Group;
        if (group.Length == 0)
        {
            return;
        }

        if (GroupDatabase.TryGetGroupId(group, out var id))
        {
            _adminGroup = id;
        }
        else
        {
            PeerIdentificationLog.AdminGroupMissing(logger, group);
        }
    }

    public PeerIdentity Identify(FrameConnection connection)
    {
        var peer = connection.Peer;
        return new PeerIdentity(peer, peer.Uid == 0 || peer.Uid == _daemonUid || InAdminGroup(connection, peer));
    }

    private bool InAdminGroup(FrameConnection connection, PeerCredentials peer)
    {
        if (_adminGroup is not { } admin)
        {
            return false;
        }

        if (peer.Gid == admin)
        {
            return true;
        }

        try
        {
            return connection.ReadPeerGroups().Contains(admin);
        }
        catch (SocketException)
        {
            // Before Linux 4.13 the kernel does not tell a peer's supplementary groups: its primary group alone counts.
            return false;
        }
    }
}

internal static partial class PeerIdentificationLog
{
    [LoggerMessage(EventId = 320, Level = LogLevel.Warning, Message = "There is no group '{Group}' (Admin:Group): only root and the daemon's own user see every tenant's sessions and models")]
    public static partial void AdminGroupMissing(ILogger logger, string group);
}
