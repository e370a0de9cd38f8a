using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Bench.Models;

/// <summary>
/// A memfd mapped shared into the benchmark, as a client shares a region with the daemon: the
/// benchmark reads and writes it here, the engine copies to and from it by its own descriptor.
/// </summary>
internal sealed unsafe class SharedRegion : IDisposable
{
    private readonly MemoryFile _file;
    private readonly nint _address;

    private SharedRegion(MemoryFile file, nint address, ulong bytes)
    {
        _file = file;
        _address = address;
        Bytes = bytes;
    }

    /// <summary>Whole pages.</summary>
    public ulong Bytes { get; }

    /// <summary>At least <paramref name="bytes"/>, rounded up to whole pages.</summary>
    public static SharedRegion Create(string name, ulong bytes)
    {
        bytes = (bytes + PageMappings.PageSize - 1) / PageMappings.PageSize * PageMappings.PageSize;
        var file = MemoryFile.Create(name, bytes);
        try
        {
            return new SharedRegion(file, PageMappings.MapShared(file, (nuint)bytes), bytes);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A new descriptor of the region's file, for the engine to take (and close).</summary>
    public SafeFileHandle OpenDescriptor() => MemoryFileHandles.OpenNew(_file);

    public Span<T> Slice<T>(ulong offset, int count)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + ((ulong)count * (ulong)sizeof(T)), Bytes);
        return new Span<T>((byte*)_address + offset, count);
    }

    public void Dispose()
    {
        PageMappings.Unmap(_address, (nuint)Bytes);
        _file.Dispose();
    }
}
