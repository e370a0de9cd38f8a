using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Linux;

/// <summary>Questions and changes that apply to any open file, whatever made it (statx, file seals).</summary>
public static unsafe class FileDescriptors
{
    /// <summary>The file's size in bytes.</summary>
    public static ulong Size(SafeHandle file)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var fd = (int)file.DangerousGetHandle();
            statx status;
            var result = &status;
            Retry.OnInterrupt(() => StatxSize(fd, result), "statx");
            return status.stx_size;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Seals the file so that it can no longer shrink (<c>F_SEAL_SHRINK</c>), which makes a shared
    /// mapping of it safe from SIGBUS. False when the file cannot take the seal: not a memfd
    /// (EINVAL), created without <c>MFD_ALLOW_SEALING</c> or opened read-only (EPERM).
    /// </summary>
    public static bool TrySealAgainstShrinking(SafeHandle file)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var fd = (int)file.DangerousGetHandle();
            Retry.OnInterrupt(() => fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), "fcntl(F_ADD_SEALS)");
            return true;
        }
        catch (LinuxException e) when (e.Errno == EPERM || e.Errno == EINVAL)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    private static int StatxSize(int fd, statx* result)
    {
        byte emptyPath = 0;
        return statx(fd, &emptyPath, AT_EMPTY_PATH, STATX_SIZE, result);
    }
}
