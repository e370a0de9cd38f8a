namespace GpuMux.Gpu;

public enum KernelArgumentKind : byte
{
    Pointer,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64,
}

/// <summary>
/// One kernel argument: the type the caller gives it and its bits, little-endian in the low bytes
/// of a 64-bit slot, which is exactly what the driver reads through the parameter's pointer. The
/// kernel reads the bits as its own parameter's type, as a GPU does: only the size is checked
/// (<see cref="KernelLaunchCheck"/>), since the driver knows no more of a parameter than that.
/// </summary>
public readonly record struct KernelArgument(KernelArgumentKind Kind, ulong Bits)
{
    public int Size => SizeOf(Kind);

    public DevicePtr AsPointer() => new(Bits);

    public int AsInt32() => (int)Bits;

    public uint AsUInt32() => (uint)Bits;

    public long AsInt64() => (long)Bits;

    public ulong AsUInt64() => Bits;

    public float AsFloat32() => BitConverter.Int32BitsToSingle((int)Bits);

    public double AsFloat64() => BitConverter.Int64BitsToDouble((long)Bits);

    public static int SizeOf(KernelArgumentKind kind) =>
        kind is KernelArgumentKind.Int32 or KernelArgumentKind.UInt32 or KernelArgumentKind.Float32 ? 4 : 8;

    public override string ToString() => Kind switch
    {
        KernelArgumentKind.Pointer => AsPointer().ToString(),
        KernelArgumentKind.Float32 => AsFloat32().ToString(System.Globalization.CultureInfo.InvariantCulture),
        KernelArgumentKind.Float64 => AsFloat64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        KernelArgumentKind.Int32 => AsInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
        KernelArgumentKind.Int64 => AsInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Bits.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
