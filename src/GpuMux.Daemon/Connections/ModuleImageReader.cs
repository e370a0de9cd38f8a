using GpuMux.Engine;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Reads a module's image from the descriptor the client sent with LoadModule: a memfd or a
/// regular file (<see cref="ClientFiles.RequireReadable"/>), at least as long as stated, read with
/// <c>pread</c>s that stop at the stated length. Anything else is refused before a byte is read,
/// so no descriptor a client chooses can make the read wait.
/// </summary>
internal static class ModuleImageReader
{
    public static byte[] Read(SafeFileHandle descriptor, ulong bytes, int maxBytes)
    {
        if (bytes == 0 || bytes > (ulong)maxBytes)
        {
            throw new EngineException(EngineError.InvalidArgument, $"a module image is 1 to {maxBytes} bytes, not {bytes}");
        }

        var size = ClientFiles.RequireReadable(descriptor, "module");
        if (size < bytes)
        {
            throw new EngineException(EngineError.BadDescriptor, $"the module descriptor holds {size} bytes, not the {bytes} stated");
        }

        var image = new byte[bytes];
        try
        {
            var read = 0;
            while (read < image.Length)
            {
                var count = RandomAccess.Read(descriptor, image.AsSpan(read), read);
                if (count == 0)
                {
                    throw new EngineException(EngineError.BadDescriptor, $"the module descriptor holds {read} bytes, not the {bytes} stated");
                }

                read += count;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new EngineException(EngineError.BadDescriptor, $"the module descriptor cannot be read: {e.Message}");
        }

        return image;
    }
}
