using System.Text;
using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace GpuMux.Robustness.Linux;

/// <summary>What a client may pass where the protocol wants a file: the right kind, and every wrong one.</summary>
internal enum DescriptorKind
{
    /// <summary>What the protocol asks for: a memfd made with MFD_ALLOW_SEALING.</summary>
    SealableMemfd,

    /// <summary>A memfd made without MFD_ALLOW_SEALING (the protocol document's own example): it can shrink under a mapping.</summary>
    UnsealableMemfd,

    /// <summary>A memfd sealed with F_SEAL_SEAL and nothing else: no seal can be added, so it too can shrink.</summary>
    SealSealedMemfd,

    /// <summary>A regular file, unlinked once open: it can shrink.</summary>
    RegularFile,

    /// <summary>A sealable memfd shorter than the length the frame states.</summary>
    ShortMemfd,

    /// <summary>The read end of a pipe whose write end stays open: a read waits for data that never comes.</summary>
    Pipe,

    /// <summary>One end of a socket pair.</summary>
    Socket,

    /// <summary>An eventfd at zero: a read blocks forever.</summary>
    EventFd,

    /// <summary>A directory, opened for reading.</summary>
    Directory,

    /// <summary>/dev/zero, a character device.</summary>
    CharacterDevice,
}

/// <summary>
/// A descriptor of one <see cref="DescriptorKind"/> for a client to send, and whatever must stay
/// open beside it (a pipe's write end, a socket's peer). The descriptor travels; this side keeps its own.
/// </summary>
internal sealed unsafe class OddDescriptor : IDisposable
{
    private readonly SafeFileHandle? _companion;

    private OddDescriptor(DescriptorKind kind, SafeFileHandle handle, SafeFileHandle? companion = null)
    {
        Kind = kind;
        Handle = handle;
        _companion = companion;
    }

    public DescriptorKind Kind { get; }

    public SafeFileHandle Handle { get; }

    /// <summary>Whether it can shrink under a mapping: a file of any size that cannot be sealed against it.</summary>
    public bool CanShrink => Kind is DescriptorKind.UnsealableMemfd or DescriptorKind.SealSealedMemfd or DescriptorKind.RegularFile;

    /// <summary>A descriptor of <paramref name="kind"/>; a file kind holds <paramref name="contents"/> (a short memfd holds all but its last byte).</summary>
    public static OddDescriptor Create(DescriptorKind kind, ReadOnlySpan<byte> contents)
    {
        switch (kind)
        {
            case DescriptorKind.SealableMemfd:
                return Filled(kind, MemoryFile(MFD_CLOEXEC | MFD_ALLOW_SEALING), contents);
            case DescriptorKind.UnsealableMemfd:
                return Filled(kind, MemoryFile(MFD_CLOEXEC), contents);
            case DescriptorKind.SealSealedMemfd:
                var sealedFile = Filled(kind, MemoryFile(MFD_CLOEXEC | MFD_ALLOW_SEALING), contents);
                Check(fcntl(Fd(sealedFile.Handle), F_ADD_SEALS, F_SEAL_SEAL), "fcntl(F_ADD_SEALS, F_SEAL_SEAL)");
                return sealedFile;
            case DescriptorKind.ShortMemfd:
                return Filled(kind, MemoryFile(MFD_CLOEXEC | MFD_ALLOW_SEALING), contents.IsEmpty ? contents : contents[..^1]);
            case DescriptorKind.RegularFile:
                var path = Path.Combine(Path.GetTempPath(), $"gpumux-odd-{Guid.NewGuid():N}");
                var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
                File.Delete(path);
                return Filled(kind, file, contents);
            case DescriptorKind.Pipe:
                var ends = stackalloc int[2];
                Check(pipe2(ends, O_CLOEXEC), "pipe2");
                return new OddDescriptor(kind, new SafeFileHandle(ends[0], true), new SafeFileHandle(ends[1], true));
            case DescriptorKind.Socket:
                var pair = stackalloc int[2];
                Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "socketpair");
                return new OddDescriptor(kind, new SafeFileHandle(pair[0], true), new SafeFileHandle(pair[1], true));
            case DescriptorKind.EventFd:
                return new OddDescriptor(kind, new SafeFileHandle(Check(eventfd(0, EFD_CLOEXEC), "eventfd"), true));
            case DescriptorKind.Directory:
                return new OddDescriptor(kind, Open(Path.GetTempPath(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            case DescriptorKind.CharacterDevice:
                return new OddDescriptor(kind, Open("/dev/zero", O_RDWR | O_CLOEXEC));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>Cuts the file to <paramref name="length"/> bytes, as a client pulling pages from under a mapping would.</summary>
    public void Truncate(ulong length) => Check(ftruncate(Fd(Handle), (long)length), "ftruncate");

    public void Dispose()
    {
        Handle.Dispose();
        _companion?.Dispose();
    }

    private static OddDescriptor Filled(DescriptorKind kind, SafeFileHandle handle, ReadOnlySpan<byte> contents)
    {
        var descriptor = new OddDescriptor(kind, handle);
        try
        {
            Check(ftruncate(Fd(handle), contents.Length), "ftruncate");
            RandomAccess.Write(handle, contents, 0);
            return descriptor;
        }
        catch
        {
            descriptor.Dispose();
            throw;
        }
    }

    private static SafeFileHandle MemoryFile(uint flags)
    {
        var name = Encoding.ASCII.GetBytes("gpumux-robustness\0");
        fixed (byte* pointer = name)
        {
            return new SafeFileHandle(Check(memfd_create(pointer, flags), "memfd_create"), true);
        }
    }

    private static SafeFileHandle Open(string path, int flags)
    {
        var name = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pointer = name)
        {
            return new SafeFileHandle(Check(open(pointer, flags), $"open({path})"), true);
        }
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new IOException($"{call} failed with errno {errno}");
}
