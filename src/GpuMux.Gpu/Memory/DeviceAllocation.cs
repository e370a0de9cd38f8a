namespace GpuMux.Gpu;

/// <summary>Device memory from <see cref="GpuContext.Allocate"/>, freed on dispose.</summary>
public abstract class DeviceAllocation(GpuContext context, DevicePtr pointer, ulong length) : GpuContextResource(context)
{
    public DevicePtr Pointer { get; } = pointer;

    public ulong Length { get; } = length;

    public override string ToString() => $"{Length} bytes at {Pointer}";
}
