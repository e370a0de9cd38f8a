using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// A client's file mapped shared and read-write into the daemon (<c>mmap MAP_SHARED</c>), so the
/// client's writes show through and the device's copies out reach the client. Unmapped on dispose.
/// </summary>
internal sealed class SharedFileMapping : IDisposable
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
        try
        {
            var size = FileDescriptors.Size(file);
            if (size < length)
            {
                throw new EngineException(EngineError.BadDescriptor, $"the file is {size} bytes long, shorter than the {length} bytes to map");
            }
            _ = FileDescriptors.TrySealAgainstShrinking(file);
            return new SharedFileMapping(PageMappings.MapShared(file, (nuint)length), length);
        }
        catch (LinuxException e)
        {
            throw new EngineException(EngineError.BadDescriptor, $"cannot map the descriptor: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _unmapped, 1) == 0)
        {
            PageMappings.Unmap(Pointer, (nuint)Length);
        }
    }
}
