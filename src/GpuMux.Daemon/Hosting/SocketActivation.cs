using System.Globalization;
using System.Net.Sockets;

namespace GpuMux.Daemon.Hosting;

/// <summary>
/// The listening socket systemd passes when gpumuxd.socket starts the daemon (sd_listen_fds(3)):
/// descriptors from 3 on, announced by <c>LISTEN_PID</c> and <c>LISTEN_FDS</c>.
/// </summary>
internal static class SocketActivation
{
    private const int FirstDescriptor = 3;

    // SOL_SOCKET and SO_ACCEPTCONN from <sys/socket.h>: whether listen() was called.
    private const int SolSocket = 1;
    private const int SoAcceptConn = 30;

    /// <summary>
    /// The socket systemd passed, or null when it passed none. Throws when what it passed is not a
    /// listening Unix stream socket, since serving on anything else would be wrong.
    /// </summary>
    public static Socket? TryAdoptListeningSocket()
    {
        var count = PassedDescriptorCount(
            Environment.GetEnvironmentVariable("LISTEN_PID"),
            Environment.GetEnvironmentVariable("LISTEN_FDS"),
            Environment.ProcessId);

        // As sd_listen_fds(1) does, so that processes we start do not think the sockets are theirs.
        // Only the managed environment changes, which is what Process.Start passes on.
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);

        return count == 0 ? null : AdoptListening(new SafeSocketHandle(FirstDescriptor, ownsHandle: true));
    }

    internal static int PassedDescriptorCount(string? listenPid, string? listenFds, int processId)
    {
        if (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid != processId)
        {
            return 0;
        }
        return int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
    }

    internal static Socket AdoptListening(SafeSocketHandle handle)
    {
        Socket socket;
        try
        {
            socket = new Socket(handle);
        }
        catch (SocketException e)
        {
            handle.Dispose();
            throw new InvalidOperationException(
                $"systemd passed descriptor {FirstDescriptor} (LISTEN_FDS), but it is not a socket: {e.Message}", e);
        }

        Span<byte> acceptConn = stackalloc byte[sizeof(int)];
        var listening = socket.GetRawSocketOption(SolSocket, SoAcceptConn, acceptConn) == sizeof(int)
            && BitConverter.ToInt32(acceptConn) != 0;
        if (socket.AddressFamily != AddressFamily.Unix || socket.SocketType != SocketType.Stream || !listening)
        {
            var what = $"{socket.AddressFamily} {socket.SocketType} socket{(listening ? "" : " that is not listening")}";
            socket.Dispose();
            throw new InvalidOperationException(
                $"systemd passed descriptor {FirstDescriptor} (LISTEN_FDS), a {what}; gpumuxd needs a listening Unix stream socket "
                + "(ListenStream=/path in gpumuxd.socket, without Accept=yes).");
        }
        return socket;
    }
}
