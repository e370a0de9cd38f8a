using System.Runtime.InteropServices;
using GpuMux.Linux;

namespace GpuMux.Engine;

/// <summary>
/// The rules for a descriptor a client hands over (docs/protocol.md): a memfd or a regular file,
/// never a pipe, socket, eventfd, directory or device, which a read could wait on forever, nor a
/// file on FUSE, whose reads wait on whatever process serves it. A region's file must also be a
/// memfd that can no longer shrink, so that its mapping can never raise SIGBUS. The checks only
/// ask the kernel about the descriptor (statx, statfs, fcntl): none of them reads it or can block.
/// Every refusal is <see cref="EngineError.BadDescriptor"/>, naming what the descriptor was.
/// </summary>
public static class ClientFiles
{
    /// <summary>
    /// Checks a file the engine will read at offsets (a module's image, a model's safetensors)
    /// and returns its size: reads never go past it, so a file that says it is empty is never read.
    /// </summary>
    public static ulong RequireReadable(SafeHandle file, string role)
    {
        var status = StatusOf(file, role);
        if (status.Type != FileType.Regular || status.FileSystem is FileSystems.Fuse or FileSystems.AnonymousInodes)
        {
            throw Refused(file, role, status, "a memfd or a regular file");
        }
        return status.Size;
    }

    /// <summary>
    /// Checks a file the engine will map shared, and seals it against shrinking if it is not
    /// already; returns its size from then on, which can only grow. Touching a mapped page past
    /// the end of a file raises SIGBUS, so a file that could shrink is never mapped.
    /// </summary>
    internal static ulong SealForMapping(SafeHandle file, string role)
    {
        var status = StatusOf(file, role);
        if (status.Type != FileType.Regular || status.FileSystem != FileSystems.Tmpfs)
        {
            throw Refused(file, role, status, "a memfd that can be sealed against shrinking (made with MFD_ALLOW_SEALING)");
        }
        var why = FileDescriptors.SealAgainstShrinking(file) switch
        {
            ShrinkSeal.Sealed => null,
            ShrinkSeal.SealedShut => "it is sealed shut (F_SEAL_SEAL without F_SEAL_SHRINK): a memfd made without MFD_ALLOW_SEALING, one sealed shut, or a tmpfs file opened by path",
            ShrinkSeal.ReadOnly => "the descriptor is not open for writing",
            _ => "its file system has no seals",
        };
        if (why is not null)
        {
            throw new EngineException(EngineError.BadDescriptor, $"the {role} descriptor cannot be sealed against shrinking, which a shared file must be: {why}");
        }
        return StatusOf(file, role).Size;
    }

    private static FileStatus StatusOf(SafeHandle file, string role)
    {
        try
        {
            return FileDescriptors.Status(file);
        }
        catch (LinuxException e)
        {
            throw new EngineException(EngineError.BadDescriptor, $"the {role} descriptor cannot be examined: {e.Message}", e);
        }
    }

    private static EngineException Refused(SafeHandle file, string role, FileStatus status, string wanted) =>
        new(EngineError.BadDescriptor, $"the {role} descriptor is {Describe(file, status)}, not {wanted}");

    private static string Describe(SafeHandle file, FileStatus status) => status switch
    {
        { FileSystem: FileSystems.AnonymousInodes } or { Type: FileType.None } => DescribeAnonymous(FileDescriptors.Target(file)),
        { Type: FileType.Pipe } => "a pipe",
        { Type: FileType.Socket } => "a socket",
        { Type: FileType.Directory } => "a directory",
        { Type: FileType.CharacterDevice } => $"a character device ({FileDescriptors.Target(file)})",
        { Type: FileType.BlockDevice } => $"a block device ({FileDescriptors.Target(file)})",
        { Type: FileType.SymbolicLink } => "a symbolic link",
        { FileSystem: FileSystems.Fuse } => "a file on a FUSE file system, whose reads wait on another process",
        { FileSystem: FileSystems.Hugetlbfs } => "a hugetlbfs file (a memfd made with MFD_HUGETLB), whose pages can fail to fault in",
        _ => "a file on a file system that has no seals (a file on disk)",
    };

    /// <summary>An eventfd, a timerfd, an epoll instance: named as the kernel names it, <c>anon_inode:[eventfd]</c>.</summary>
    private static string DescribeAnonymous(string? target)
    {
        const string Prefix = "anon_inode:";
        if (target is null || !target.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return "an anonymous inode";
        }
        var name = target[Prefix.Length..].Trim('[', ']');
        if (name.Length == 0)
        {
            return "an anonymous inode";
        }
        return $"{("aeio".Contains(name[..1], StringComparison.Ordinal) ? "an" : "a")} {name}";
    }
}
