namespace GpuMux.Protocol.Messages;

/// <summary>
/// One decoded op of a step. Copies fill the region, buffer and offset fields; a launch fills the
/// function, dimensions and <see cref="ArgumentCount"/>, and its arguments follow it in the decoder;
/// UseModel fills <see cref="Model"/>; Schedule fills <see cref="DeadlineNs"/> and <see cref="Flags"/>.
/// </summary>
public readonly record struct StepOp(
    StepOpKind Kind,
    uint Region,
    ulong RegionOffset,
    uint Buffer,
    ulong BufferOffset,
    ulong Bytes,
    uint Function,
    uint GridX,
    uint GridY,
    uint GridZ,
    uint BlockX,
    uint BlockY,
    uint BlockZ,
    uint SharedMemoryBytes,
    byte ArgumentCount,
    uint Model = 0,
    long DeadlineNs = 0,
    ScheduleFlags Flags = ScheduleFlags.None);

/// <summary>A launch argument: a buffer or tensor handle with an offset, or a scalar's bits in <see cref="Bits"/>.</summary>
public readonly record struct LaunchArgument(ArgumentKind Kind, uint Handle, ulong Bits)
{
    public ulong Offset => Bits;

    public int AsInt32 => (int)Bits;

    public uint AsUInt32 => (uint)Bits;

    public long AsInt64 => (long)Bits;

    public float AsFloat32 => BitConverter.Int32BitsToSingle((int)Bits);

    public double AsFloat64 => BitConverter.Int64BitsToDouble((long)Bits);
}
