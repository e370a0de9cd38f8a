namespace GpuMux.Gpu;

/// <summary>
/// A range of device virtual addresses with nothing behind it until physical memory is mapped
/// into it. Freed on dispose; everything mapped into it must be unmapped first.
/// </summary>
public abstract class AddressReservation(GpuContext context, DevicePtr start, ulong length) : GpuContextResource(context)
{
    public DevicePtr Start { get; } = start;

    public ulong Length { get; } = length;
}
