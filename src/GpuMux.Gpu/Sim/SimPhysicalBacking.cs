namespace GpuMux.Gpu.Sim;

/// <summary>
/// The memory behind a simulated <see cref="PhysicalMemory"/>: a stretch of the device's memory
/// file whose pages are mapped into reservations. It counts against the device's capacity until
/// it has been released and unmapped everywhere, as CUDA keeps released memory alive while it is
/// mapped.
/// </summary>
internal sealed class SimPhysicalBacking(ulong fileOffset, ulong length)
{
    /// <summary>Where the memory starts in the device's memory file.</summary>
    public ulong FileOffset { get; } = fileOffset;

    public ulong Length { get; } = length;

    public int Mappings { get; set; }

    public bool Released { get; set; }

    public bool IsDead => Released && Mappings == 0;
}
