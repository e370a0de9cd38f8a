using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Linux;

/// <summary>Questions and changes that apply to any open file, whatever made it (statx, statfs, file seals).</summary>
public static unsafe partial class FileDescriptors
{
    /// <summary>The file's type, size and file system. Never reads or blocks, whatever the descriptor is.</summary>
    public static FileStatus Status(SafeHandle file) => WithDescriptor(file, fd =>
    {
        statx status;
        var result = &status;
        Retry.OnInterrupt(() => Statx(fd, result), "statx");
        StatFs fileSystem;
        var fileSystemResult = &fileSystem;
        RetryImported(() => fstatfs(fd, fileSystemResult), "fstatfs");
        return new FileStatus(TypeOf(status.stx_mode), status.stx_size, fileSystem.Type);
    });

    /// <summary>
    /// What the kernel calls the descriptor's file (the target of its <c>/proc/self/fd</c> link):
    /// a path, or <c>pipe:[…]</c>, <c>socket:[…]</c>, <c>anon_inode:[eventfd]</c>. Null if it cannot tell.
    /// </summary>
    public static string? Target(SafeHandle file) => WithDescriptor(file, fd =>
    {
        const int Capacity = 4096;
        var path = Encoding.UTF8.GetBytes($"/proc/self/fd/{fd}\0");
        var buffer = stackalloc byte[Capacity];
        long length;
        fixed (byte* pathPointer = path)
        {
            length = readlink(pathPointer, buffer, Capacity);
        }
        return length <= 0 ? null : Encoding.UTF8.GetString(buffer, (int)length);
    });

    /// <summary>
    /// Makes sure the file can no longer shrink (<c>F_SEAL_SHRINK</c>), which makes a shared
    /// mapping of its first <see cref="FileStatus.Size"/> bytes, read after the seal, safe from
    /// SIGBUS: seals it, unless it is sealed so already. Anything else says why it cannot be.
    /// </summary>
    public static ShrinkSeal SealAgainstShrinking(SafeHandle file) => WithDescriptor(file, fd =>
    {
        try
        {
            var seals = Retry.OnInterrupt(() => fcntl(fd, F_GET_SEALS), "fcntl(F_GET_SEALS)");
            if ((seals & F_SEAL_SHRINK) != 0)
            {
                return ShrinkSeal.Sealed;
            }
            if ((seals & F_SEAL_SEAL) != 0)
            {
                return ShrinkSeal.SealedShut;
            }
            Retry.OnInterrupt(() => fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), "fcntl(F_ADD_SEALS)");
            return ShrinkSeal.Sealed;
        }
        catch (LinuxException e) when (e.Errno == EINVAL)
        {
            return ShrinkSeal.Unsupported;
        }
        catch (LinuxException e) when (e.Errno == EPERM)
        {
            // F_SEAL_SEAL added by the client since the look, or a descriptor not open for writing.
            var seals = fcntl(fd, F_GET_SEALS);
            return seals >= 0 && (seals & F_SEAL_SEAL) != 0 ? ShrinkSeal.SealedShut : ShrinkSeal.ReadOnly;
        }
    });

    /// <summary>
    /// The device and inode of the descriptor's file (<c>st_dev</c> and <c>st_ino</c>), as
    /// systemd writes them into <c>JOURNAL_STREAM</c> for the stream it connects to the journal.
    /// </summary>
    public static (ulong Device, ulong Inode) Identity(SafeHandle file) => WithDescriptor(file, fd =>
    {
        stat status;
        var result = &status;
        Retry.OnInterrupt(() => fstat(fd, result), "fstat");
        return ((ulong)status.st_dev, (ulong)status.st_ino);
    });

    private static T WithDescriptor<T>(SafeHandle file, Func<int, T> call)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            return call((int)file.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    private static FileType TypeOf(ushort mode) => (mode & S_IFMT) switch
    {
        var type when type == S_IFREG => FileType.Regular,
        var type when type == S_IFDIR => FileType.Directory,
        var type when type == S_IFCHR => FileType.CharacterDevice,
        var type when type == S_IFBLK => FileType.BlockDevice,
        var type when type == S_IFIFO => FileType.Pipe,
        var type when type == S_IFSOCK => FileType.Socket,
        var type when type == S_IFLNK => FileType.SymbolicLink,
        _ => FileType.None,
    };

    private static int Statx(int fd, statx* result)
    {
        byte emptyPath = 0;
        return statx(fd, &emptyPath, AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_SIZE, result);
    }

    private static void RetryImported(Func<int> call, string name)
    {
        while (call() < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw new LinuxException(name, errno);
            }
        }
    }

    // Tmds.LibC 0.5.0 has fstatvfs, whose struct has no file system type, but not fstatfs.
    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int fstatfs(int fd, StatFs* buffer);

    /// <summary>glibc's <c>struct statfs</c> on 64-bit Linux: 120 bytes, <c>f_type</c> first.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 120)]
    internal struct StatFs
    {
        [FieldOffset(0)]
        public long Type;
    }
}
