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
    /// <see cref="EngineError.BadDescriptor"/>. Only a memfd sealed against shrinking is mapped
    /// (<see cref="ClientFiles.SealForMapping"/>), and only as far as its size once sealed, so no
    /// page of the mapping can ever lie past the end of the file.
    /// </summary>
    public static SharedFileMapping Map(SafeFileHandle file, ulong length)
    {
        var size = ClientFiles.SealForMapping(file, "region");
        if (size < length)
        {
            throw new EngineException(EngineError.BadDescriptor, $"the file is {size} bytes long, shorter than the {length} bytes to map");
        }
        try
        {
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
