using System.Runtime.InteropServices;
using GpuMux.Linux;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Tests;

/// <summary>A memfd as a client holds it: the test reads and writes it, and hands the engine descriptors of its own.</summary>
internal sealed class SharedMemoryFile : IDisposable
{
    private readonly MemoryFile _file;
    private readonly SafeFileHandle _io;

    public SharedMemoryFile(ulong length)
    {
        Length = length;
        _file = MemoryFile.Create("engine-test", length);
        _io = OpenDescriptor();
    }

    public ulong Length { get; }

    /// <summary>A new descriptor of the same file, for the engine to take.</summary>
    public SafeFileHandle OpenDescriptor() =>
        File.OpenHandle($"/proc/self/fd/{_file.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);

    public void Write<T>(ulong offset, ReadOnlySpan<T> values)
        where T : unmanaged => RandomAccess.Write(_io, MemoryMarshal.AsBytes(values), (long)offset);

    public T[] Read<T>(ulong offset, int count)
        where T : unmanaged
    {
        var values = new T[count];
        RandomAccess.Read(_io, MemoryMarshal.AsBytes(values.AsSpan()), (long)offset);
        return values;
    }

    public void Dispose()
    {
        _io.Dispose();
        _file.Dispose();
    }
}
