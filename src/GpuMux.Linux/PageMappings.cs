using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace GpuMux.Linux;

/// <summary>
/// Anonymous and file-backed page mappings (mmap, mprotect, munmap). Used by the simulated
/// device to give its memory real virtual addresses, with reservations and fixed mappings that
/// behave like CUDA's virtual memory management.
/// </summary>
public static unsafe class PageMappings
{
    public static nuint PageSize { get; } = (nuint)Environment.SystemPageSize;

    /// <summary>
    /// Read-write anonymous memory, committed only as it is touched, so a large simulated
    /// capacity costs nothing until used.
    /// </summary>
    public static nint MapAnonymous(nuint length) =>
        Map(null, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, "mmap(anonymous)");

    /// <summary>Address space with no access and no memory behind it, aligned to <paramref name="alignment"/>.</summary>
    public static nint Reserve(nuint length, nuint alignment)
    {
        var padded = length + alignment;
        var raw = Map(null, padded, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, "mmap(reserve)");
        var aligned = (nint)(((nuint)raw + alignment - 1) / alignment * alignment);
        var head = (nuint)(aligned - raw);
        if (head > 0)
        {
            Unmap(raw, head);
        }
        var tail = padded - head - length;
        if (tail > 0)
        {
            Unmap(aligned + (nint)length, tail);
        }
        return aligned;
    }

    /// <summary>
    /// The first <paramref name="length"/> bytes of <paramref name="file"/>, mapped shared and
    /// read-write: every process that maps the file sees the same pages.
    /// </summary>
    public static nint MapShared(SafeHandle file, nuint length)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            return Map(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, (int)file.DangerousGetHandle(), 0, "mmap(shared file)");
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="file"/> from <paramref name="offset"/> over an existing range, with no access yet.</summary>
    public static void MapFileFixed(nint address, nuint length, MemoryFile file, ulong offset)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            Map((void*)address, length, PROT_NONE, MAP_SHARED | MAP_FIXED, (int)file.DangerousGetHandle(), (long)offset, "mmap(fixed file)");
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>Puts a range back to reserved address space, dropping whatever was mapped there.</summary>
    public static void ResetToReserved(nint address, nuint length) =>
        Map((void*)address, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0, "mmap(fixed reserve)");

    public static void Protect(nint address, nuint length, bool read, bool write)
    {
        var protection = (read ? PROT_READ : 0) | (write ? PROT_WRITE : 0);
        if (mprotect((void*)address, (size_t)(ulong)length, protection) != 0)
        {
            throw LinuxException.FromLastError("mprotect");
        }
    }

    public static void Unmap(nint address, nuint length)
    {
        if (munmap((void*)address, (size_t)(ulong)length) != 0)
        {
            throw LinuxException.FromLastError("munmap");
        }
    }

    private static nint Map(void* address, nuint length, int protection, int flags, int fd, long offset, string call)
    {
        var result = mmap(address, (size_t)(ulong)length, protection, flags, fd, offset);
        return result == MAP_FAILED ? throw LinuxException.FromLastError(call) : (nint)result;
    }
}
