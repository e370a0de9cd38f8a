using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// One tenant (a uid) as TenantReport lists it: its usage against its limits (0 is no limit; an
/// empty highest class allows any), then its accounting since the daemon started. Resets_at is 0
/// when nothing counts against its daily GPU time.
/// </summary>
public readonly record struct TenantEntry(
    uint Uid,
    double Weight,
    uint Sessions,
    ulong DeviceBytes,
    ulong MaxDeviceBytes,
    uint Leases,
    uint MaxLeases,
    double GpuSecondsToday,
    double GpuSecondsPerDay,
    long ResetsAtUnixMs,
    string HighestClass,
    UsageEntry Usage) : IMessage<TenantEntry>
{
    public const int MaxEncodedBytes = 4 + 8 + 4 + 8 + 8 + 4 + 4 + 8 + 8 + 8 + 2 + LeaseInfo.MaxClassNameBytes + UsageEntry.EncodedBytes;

    public static TenantEntry Read(ref PayloadReader reader) => new(
        reader.ReadUInt32(), reader.ReadDouble(), reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt64(),
        reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt64(),
        reader.ReadString(), UsageEntry.Read(ref reader));

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Uid);
        writer.WriteDouble(Weight);
        writer.WriteUInt32(Sessions);
        writer.WriteUInt64(DeviceBytes);
        writer.WriteUInt64(MaxDeviceBytes);
        writer.WriteUInt32(Leases);
        writer.WriteUInt32(MaxLeases);
        writer.WriteDouble(GpuSecondsToday);
        writer.WriteDouble(GpuSecondsPerDay);
        writer.WriteInt64(ResetsAtUnixMs);
        writer.WriteString(HighestClass, LeaseInfo.MaxClassNameBytes);
        Usage.Write(ref writer);
    }
}
