using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace GpuMux.Linux;

/// <summary>
/// An anonymous memory file (memfd): memory with a descriptor, which can be mapped and passed to
/// other processes. Created sealable, so that a process that maps one it was given can seal it
/// against shrinking (see <see cref="FileDescriptors.SealAgainstShrinking"/>).
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
            file.SetLength(length);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Grows or shrinks the file; growing adds holes, which cost no memory until touched.</summary>
    public void SetLength(ulong length) => WithDescriptor(fd => Retry.OnInterrupt(() => ftruncate(fd, (long)length), "ftruncate"));

    /// <summary>Gives the memory behind a range back to the system; the range reads as zeros afterwards.</summary>
    public void Discard(ulong offset, ulong length) =>
        WithDescriptor(fd => Retry.OnInterrupt(() => fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (long)offset, (long)length), "fallocate(punch hole)"));

    protected override bool ReleaseHandle() => close((int)handle) == 0;

    private void WithDescriptor(Action<int> call)
    {
        var added = false;
        DangerousAddRef(ref added);
        try
        {
            call((int)DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }
}
