using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Bench.Models;

internal static class MemoryFileHandles
{
    /// <summary>
    /// A new descriptor of <paramref name="file"/> (opened anew through /proc, as a client hands
    /// the daemon its own), for the engine to take and close.
    /// </summary>
    public static SafeFileHandle OpenNew(MemoryFile file)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            return File.OpenHandle($"/proc/self/fd/{file.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }
}
