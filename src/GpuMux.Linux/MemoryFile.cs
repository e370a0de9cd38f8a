using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace GpuMux.Linux;

/// <summary>
/// An anonymous memory file (memfd): memory with a descriptor, which can be mapped and passed to
/// other processes. Created sealable, so that a process that maps one it was given can seal it
/// against shrinking (see <see cref="FileDescriptors.TrySealAgainstShrinking"/>).
/// </summary>
public sealed unsafe class MemoryFile : SafeHandle
{
    private MemoryFile(int fd)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle < 0;

    public static MemoryFile Create(string name, ulong length)
    {
        var utf8 = Encoding.UTF8.GetBytes(name + "\0");
        int fd;
        fixed (byte* namePointer = utf8)
        {
            fd = memfd_create(namePointer, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        }
        if (fd < 0)
        {
            throw LinuxException.FromLastError("memfd_create");
        }
        var file = new MemoryFile(fd);
        try
        {
            Retry.OnInterrupt(() => ftruncate(fd, (long)length), "ftruncate");
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    protected override bool ReleaseHandle() => close((int)handle) == 0;
}
