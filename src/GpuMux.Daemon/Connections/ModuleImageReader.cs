using GpuMux.Engine;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Daemon.Connections;

/// <summary>Reads a module's image from the descriptor the client sent with LoadModule.</summary>
internal static class ModuleImageReader
{
    public static byte[] Read(SafeFileHandle descriptor, ulong bytes, int maxBytes)
    {
        if (bytes == 0 || bytes > (ulong)maxBytes)
        {
            throw new EngineException(EngineError.InvalidArgument, $"a module image is 1 to {maxBytes} bytes, not {bytes}");
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
