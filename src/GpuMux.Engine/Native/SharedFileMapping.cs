using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Engine.Native;

/// <summary>
/// A client's file mapped shared and read-write into the daemon (<c>mmap MAP_SHARED</c>), so the
/// client's writes show through and the device's copies out reach the client. Unmapped on dispose.
/// The two calls GpuMux.Linux lacks, the file's size and the seal, are made here.
/// </summary>
internal sealed unsafe class SharedFileMapping : IDisposable
{
    private int _unmapped;

    private SharedFileMapping(nint pointer, ulong length)
    {
        Pointer = pointer;
        Length = length;
    }

    public nint Pointer { get; }

    public ulong Length { get; }

    /// <summary>
    /// Maps the first <paramref name="length"/> bytes of <paramref name="file"/>, or fails with
    /// <see cref="EngineError.BadDescriptor"/>. The file must stay that long: touching a mapped
    /// page past the end of a file raises SIGBUS, so a memfd that allows sealing is sealed
    /// against shrinking. One that does not (no <c>MFD_ALLOW_SEALING</c>) is trusted.
    /// </summary>
    public static SharedFileMapping Map(SafeFileHandle file, ulong length)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var fd = (int)file.DangerousGetHandle();
            var size = SizeOf(fd);
            if (size < length)
            {
                throw new EngineException(EngineError.BadDescriptor, $"the file is {size} bytes long, shorter than the {length} bytes to map");
            }
            // EPERM (sealing not allowed) and EINVAL (not a memfd) leave the file as it is.
            _ = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
            return new SharedFileMapping(PageMappings.MapShared(file, (nuint)length), length);
        }
        catch (LinuxException e)
        {
            throw new EngineException(EngineError.BadDescriptor, $"cannot map the descriptor: {e.Message}", e);
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _unmapped, 1) == 0)
        {
            PageMappings.Unmap(Pointer, (nuint)Length);
        }
    }

    private static ulong SizeOf(int fd)
    {
        statx status;
        var emptyPath = stackalloc byte[1];
        emptyPath[0] = 0;
        return statx(fd, emptyPath, AT_EMPTY_PATH, STATX_SIZE, &status) == 0
            ? status.stx_size
            : throw new LinuxException("statx", errno);
    }
}
