using System.Globalization;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// The directory that holds an ordinary user's socket when there is no <c>$XDG_RUNTIME_DIR</c>
/// (<see cref="SocketPaths.FallbackDirectory"/>), in <c>/tmp</c> where anyone may create it first.
/// Whoever owns it, or may write in it, can put a socket of their own where the user's daemon
/// and clients look: a daemon that reads every client's data, or clients' steps sent to an
/// impostor. So it is used only if it is the user's own directory, writable by no one else.
/// </summary>
internal static class PrivateSocketDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates the directory, 0700, unless it exists; then checks it as <see cref="ThrowIfUnsafe"/> does.</summary>
    public static void CreateOrCheck(string directory, uint uid)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("gpumuxd's socket is a Linux AF_UNIX socket");
        }
        Directory.CreateDirectory(directory, OwnerOnly);
        ThrowIfUnsafe(directory, uid);
    }

    /// <summary>Throws, saying why, when the directory exists and is not <paramref name="uid"/>'s alone; does nothing when it is absent.</summary>
    public static void ThrowIfUnsafe(string directory, uint uid)
    {
        if (Problem(directory, uid) is { } problem)
        {
            throw new InvalidOperationException(
                $"{directory}, the socket directory used when XDG_RUNTIME_DIR is not set, {problem}; it is not used, since whoever can "
                + "write there could put their own socket in place of gpumuxd's. Remove it, or name a socket elsewhere "
                + "(Socket:Path or --socket for gpumuxd; GPUMUX_HOST or --host for clients).");
        }
    }

    internal static string? Problem(string directory, uint uid)
    {
        if (!SocketFile.TryStat(directory, out var status))
        {
            return null;
        }
        if (((uint)status.st_mode & (uint)S_IFMT) != (uint)S_IFDIR)
        {
            return "is not a directory (a symbolic link or another file)";
        }
        if ((uint)status.st_uid != uid)
        {
            return string.Create(CultureInfo.InvariantCulture, $"belongs to uid {(uint)status.st_uid}, not to uid {uid} who uses it");
        }
        var writableByOthers = (UnixFileMode)((uint)status.st_mode & 0x1FF) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        return writableByOthers == 0
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"can be written by {(writableByOthers.HasFlag(UnixFileMode.OtherWrite) ? "everyone" : "its group")} (mode {Convert.ToString((uint)status.st_mode & 0x1FF, 8).PadLeft(4, '0')})");
    }
}
