namespace GpuMux.Gpu;

/// <summary>An address in a device's memory. A plain value: ownership lives with the allocation.</summary>
public readonly record struct DevicePtr(ulong Address)
{
    public static readonly DevicePtr Null;

    public bool IsNull => Address == 0;

    public static DevicePtr operator +(DevicePtr pointer, ulong offset) => new(pointer.Address + offset);

    public override string ToString() => $"0x{Address:x}";
}
