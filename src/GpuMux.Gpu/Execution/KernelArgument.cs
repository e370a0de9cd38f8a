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
/// One kernel parameter: its type and its bits, little-endian in the low bytes of a 64-bit
/// slot, which is exactly what the driver reads through the parameter's pointer.
/// </summary>
public readonly record struct KernelArgument(KernelArgumentKind Kind, ulong Bits)
{
    public int Size => Kind is KernelArgumentKind.Int32 or KernelArgumentKind.UInt32 or KernelArgumentKind.Float32 ? 4 : 8;

    public DevicePtr AsPointer() => new(Expect(KernelArgumentKind.Pointer));

    public int AsInt32() => (int)Expect(KernelArgumentKind.Int32);

    public uint AsUInt32() => (uint)Expect(KernelArgumentKind.UInt32);

    public long AsInt64() => (long)Expect(KernelArgumentKind.Int64);

    public ulong AsUInt64() => Expect(KernelArgumentKind.UInt64);

    public float AsFloat32() => BitConverter.Int32BitsToSingle((int)Expect(KernelArgumentKind.Float32));

    public double AsFloat64() => BitConverter.Int64BitsToDouble((long)Expect(KernelArgumentKind.Float64));

    private ulong Expect(KernelArgumentKind kind) =>
        Kind == kind ? Bits : throw new GpuException(GpuStatus.InvalidValue, $"kernel argument is {Kind}, the kernel expects {kind}");

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
