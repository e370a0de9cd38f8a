namespace GpuMux.Gpu;

/// <summary>
/// Physical device memory with no address of its own, made visible by mapping it into a
/// reservation. Its length is a multiple of <see cref="GpuContext.AllocationGranularity"/>.
/// Released on dispose; memory still mapped stays alive until it is unmapped.
/// </summary>
public abstract class PhysicalMemory(GpuContext context, ulong length) : GpuContextResource(context)
{
    public ulong Length { get; } = length;
}
