using GpuMux.Linux;

namespace GpuMux.Client;

/// <summary>A memory file holding a module's image, to pass to the daemon with LoadModule.</summary>
internal static unsafe class ModuleImageFile
{
    public static MemoryFile Create(ReadOnlySpan<byte> image)
    {
        var length = (nuint)image.Length;
        var file = MemoryFile.Create("gpumux-module", (ulong)image.Length);
        try
        {
            var address = PageMappings.MapShared(file, length);
            try
            {
                image.CopyTo(new Span<byte>((void*)address, image.Length));
            }
            finally
            {
                PageMappings.Unmap(address, length);
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
