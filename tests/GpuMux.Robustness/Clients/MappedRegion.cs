using GpuMux.Linux;

namespace GpuMux.Robustness.Clients;

/// <summary>A memfd mapped here, to register as a region and read what the daemon's copies wrote into it.</summary>
internal sealed unsafe class MappedRegion : IDisposable
{
    private readonly nint _address;

    public MappedRegion(ulong length)
    {
        Length = length;
        File = MemoryFile.Create("gpumux-robustness-region", length);
        _address = PageMappings.MapShared(File, (nuint)length);
    }

    public MemoryFile File { get; }

    public ulong Length { get; }

    public ReadOnlySpan<float> Floats(ulong offset, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + ((ulong)count * sizeof(float)), Length);
        return new ReadOnlySpan<float>((void*)(_address + (nint)offset), count);
    }

    public void Dispose()
    {
        PageMappings.Unmap(_address, (nuint)Length);
        File.Dispose();
    }
}
