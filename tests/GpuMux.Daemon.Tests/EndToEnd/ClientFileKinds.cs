using System.Runtime.InteropServices;
using System.Text;
using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>A file a region's client could shrink under the daemon, had the daemon mapped it.</summary>
public enum ShrinkableFile
{
    /// <summary>memfd_create with MFD_CLOEXEC alone, as many clients write it.</summary>
    MemoryFileWithoutSealing,

    /// <summary>A sealable memfd that the client sealed shut (F_SEAL_SEAL) before the daemon could seal it.</summary>
    MemoryFileSealedShut,

    /// <summary>A file on a file system, which has no seals.</summary>
    RegularFile,
}

/// <summary>Not a file at all: descriptors whose reads wait for a writer.</summary>
public enum NotAFile
{
    Eventfd,
    Pipe,
    Socket,
}

/// <summary>The descriptors a hostile or careless client hands the daemon, made as such a client makes them.</summary>
internal static unsafe class ClientFileKinds
{
    public static SafeHandle Create(ShrinkableFile kind, ulong length, string directory) => kind switch
    {
        ShrinkableFile.MemoryFileWithoutSealing => MemoryFileWithoutSealing(length),
        ShrinkableFile.MemoryFileSealedShut => SealedShut(MemoryFile.Create("sealed-shut", length)),
        _ => RegularFile(Path.Combine(directory, "region.bin"), length),
    };

    /// <summary>The descriptor to send, and its other end where it has one (a pipe's writer, a socket's peer), kept open meanwhile.</summary>
    public static (SafeFileHandle Sent, SafeFileHandle? Other) Create(NotAFile kind)
    {
        if (kind == NotAFile.Eventfd)
        {
            return (Owned(eventfd(0, EFD_CLOEXEC)), null);
        }
        var ends = stackalloc int[2];
        var result = kind == NotAFile.Pipe ? pipe2(ends, O_CLOEXEC) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends);
        Assert.Equal(0, result);
        return (Owned(ends[0]), Owned(ends[1]));
    }

    /// <summary>What the client does to pull pages from under a mapping: truncates the file to nothing.</summary>
    public static int Shrink(SafeHandle file) => ftruncate((int)file.DangerousGetHandle(), 0) == 0 ? 0 : errno;

    private static SafeFileHandle MemoryFileWithoutSealing(ulong length)
    {
        var name = Encoding.UTF8.GetBytes("unsealable\0");
        int fd;
        fixed (byte* namePointer = name)
        {
            fd = memfd_create(namePointer, MFD_CLOEXEC);
        }
        var file = Owned(fd);
        RandomAccess.SetLength(file, (long)length);
        return file;
    }

    private static MemoryFile SealedShut(MemoryFile file)
    {
        Assert.Equal(0, fcntl((int)file.DangerousGetHandle(), F_ADD_SEALS, F_SEAL_SEAL));
        return file;
    }

    private static SafeFileHandle RegularFile(string path, ulong length)
    {
        var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        RandomAccess.SetLength(file, (long)length);
        return file;
    }

    private static SafeFileHandle Owned(int fd)
    {
        Assert.True(fd >= 0, $"the descriptor could not be made: errno {errno}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
