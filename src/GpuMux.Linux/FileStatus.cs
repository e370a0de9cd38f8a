namespace GpuMux.Linux;

/// <summary>The type bits of an inode's mode (<c>S_IFMT</c>); <see cref="None"/> for an anonymous inode (an eventfd, a timerfd), which has none.</summary>
public enum FileType
{
    None,
    Regular,
    Directory,
    CharacterDevice,
    BlockDevice,
    Pipe,
    Socket,
    SymbolicLink,
}

/// <summary>
/// What an open descriptor refers to: its type, its size, and the file system it lives on
/// (<c>statfs</c>'s <c>f_type</c>, one of <see cref="FileSystems"/> or another magic number).
/// </summary>
public readonly record struct FileStatus(FileType Type, ulong Size, long FileSystem);

/// <summary>The file systems' magic numbers (linux/magic.h) that decide how a client's file may be used.</summary>
public static class FileSystems
{
    /// <summary>tmpfs and shmem, where a memfd lives unless it was made with <c>MFD_HUGETLB</c>.</summary>
    public const long Tmpfs = 0x01021994;

    public const long Hugetlbfs = 0x958458f6;

    /// <summary>FUSE: every read and close is a request to a process, which may never answer.</summary>
    public const long Fuse = 0x65735546;

    /// <summary>Where eventfds, timerfds, epoll and other anonymous inodes live.</summary>
    public const long AnonymousInodes = 0x09041934;
}

/// <summary>What <see cref="FileDescriptors.SealAgainstShrinking"/> found.</summary>
public enum ShrinkSeal
{
    /// <summary>The file cannot shrink any more: it is sealed now, or already was.</summary>
    Sealed,

    /// <summary>Sealing is itself sealed (<c>F_SEAL_SEAL</c>): a memfd made without <c>MFD_ALLOW_SEALING</c>, or one sealed shut.</summary>
    SealedShut,

    /// <summary>The descriptor is not open for writing, which adding a seal needs.</summary>
    ReadOnly,

    /// <summary>The file system has no seals: not a memfd.</summary>
    Unsupported,
}
