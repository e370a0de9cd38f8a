using System.Net.Sockets;
using System.Text;
using GpuMux.Linux;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>What sits at a socket path, and the few changes a listener makes to it.</summary>
internal static unsafe class SocketFile
{
    public enum Kind
    {
        Missing,
        Socket,
        Other,
    }

    public static Kind KindAt(string path)
    {
        if (!TryStat(path, out var status))
        {
            return Kind.Missing;
        }

        return ((ushort)status.st_mode & (ushort)S_IFMT) == (ushort)S_IFSOCK ? Kind.Socket : Kind.Other;
    }

    /// <summary>
    /// A new socket bound to <paramref name="path"/>, made through libc rather than Socket.Bind: a
    /// .NET Socket deletes the file it bound when it is disposed, by path, which would remove the
    /// socket of a daemon that has replaced this one in the meantime. A Socket made over the handle
    /// afterwards, as over a socket systemd passes in, leaves the file alone.
    /// </summary>
    public static SafeSocketHandle CreateBound(string path)
    {
        var address = default(sockaddr_un);
        var utf8 = Encoding.UTF8.GetBytes(path);
        if (utf8.Length >= sockaddr_un.sun_path_length)
        {
            throw new ArgumentException($"a socket path holds at most {sockaddr_un.sun_path_length - 1} bytes: {path}", nameof(path));
        }

        address.sun_family = AF_UNIX;
        utf8.CopyTo(new Span<byte>(address.sun_path, sockaddr_un.sun_path_length));
        var descriptor = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (descriptor < 0)
        {
            throw new LinuxException("socket", errno);
        }

        var handle = new SafeSocketHandle(descriptor, ownsHandle: true);
        if (bind(descriptor, (sockaddr*)&address, SizeOf.sockaddr_un) != 0)
        {
            var error = errno;
            handle.Dispose();
            throw error == EADDRINUSE
                ? new InvalidOperationException($"another process created {path} while this one was binding it")
                : new LinuxException("bind", error);
        }

        return handle;
    }

    public static void Listen(SafeSocketHandle socket, int backlog)
    {
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            if (listen((int)socket.DangerousGetHandle(), backlog) != 0)
            {
                throw new LinuxException("listen", errno);
            }
        }
        finally
        {
            socket.DangerousRelease();
        }
    }

    /// <summary>The file's device and inode, to recognise it later even if the path was reused.</summary>
    public static (ulong Device, ulong Inode)? Identify(string path) =>
        TryStat(path, out var status) ? ((ulong)status.st_dev, (ulong)status.st_ino) : null;

    /// <summary>Removes the file if it is still the one identified, and not a successor's socket.</summary>
    public static void DeleteIfSame(string path, (ulong Device, ulong Inode) identity)
    {
        if (Identify(path) == identity)
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Gives the file to <paramref name="group"/>; false when no such group exists, or when this
    /// process may not give files to it (it is neither root nor a member): the file then keeps
    /// the process's own group, which is narrower, not wider.
    /// </summary>
    public static bool TrySetGroup(string path, string group)
    {
        if (!GroupDatabase.TryGetGroupId(group, out var groupId))
        {
            return false;
        }

        fixed (byte* pathPointer = Encoding.UTF8.GetBytes(path + "\0"))
        {
            // An owner of uid_t(-1) leaves the owner as it is.
            if (chown(pathPointer, uint.MaxValue, groupId) == 0)
            {
                return true;
            }
        }

        var error = errno;
        if (error != EPERM)
        {
            throw new LinuxException("chown", error);
        }

        return false;
    }

    internal static bool TryStat(string path, out stat status)
    {
        stat result = default;
        int outcome;
        fixed (byte* pathPointer = Encoding.UTF8.GetBytes(path + "\0"))
        {
            outcome = lstat(pathPointer, &result);
        }

        if (outcome != 0)
        {
            var error = errno;
            if (error != ENOENT)
            {
                throw new LinuxException("lstat", error);
            }
        }

        status = result;
        return outcome == 0;
    }
}
