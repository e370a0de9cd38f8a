using System.Runtime.InteropServices;
using System.Text;
using GpuMux.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// Group lookups through the C library, so groups from LDAP or sssd resolve as they do for
/// systemd's <c>SocketGroup=</c>. Tmds.LibC 0.5.0 has no getgrnam_r, hence the one import here.
/// </summary>
public static unsafe partial class GroupDatabase
{
    /// <summary>The id of the group named <paramref name="name"/>; false when there is none.</summary>
    /// <exception cref="LinuxException">The lookup itself failed.</exception>
    public static bool TryGetGroupId(string name, out uint groupId)
    {
        var utf8Name = Encoding.UTF8.GetBytes(name + "\0");
        for (var size = 1024; ; size *= 2)
        {
            var buffer = new byte[size];
            GroupEntry entry;
            GroupEntry* found;
            int error;
            fixed (byte* namePointer = utf8Name)
            fixed (byte* bufferPointer = buffer)
            {
                error = getgrnam_r(namePointer, &entry, bufferPointer, (nuint)size, &found);
            }

            if (error == ERANGE)
            {
                continue;
            }

            // glibc reports "no such group" as 0 with no entry, some NSS modules as ENOENT or ESRCH.
            if (error == 0 || error == ENOENT || error == ESRCH)
            {
                groupId = found != null ? entry.Id : 0;
                return found != null;
            }

            throw new LinuxException("getgrnam_r", error);
        }
    }

    [LibraryImport("libc.so.6")]
    private static partial int getgrnam_r(byte* name, GroupEntry* entry, byte* buffer, nuint length, GroupEntry** result);

    /// <summary><c>struct group</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct GroupEntry
    {
        public byte* Name;
        public byte* Password;
        public uint Id;
        public byte** Members;
    }
}
