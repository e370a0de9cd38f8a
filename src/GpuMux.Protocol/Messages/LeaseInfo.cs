using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// A session's lease as it stands: the payload of LeaseGranted, and part of LeaseReport and of
/// StatusReport's session entries. Zero stands for "no limit" and "no end".
/// </summary>
public readonly record struct LeaseInfo(
    uint Id,
    string Class,
    ulong GpuNsUsed,
    ulong MaxGpuNs,
    long AcquiredAtUnixMs,
    long ExpiresAtUnixMs,
    ulong DeviceBytes,
    ulong MaxDeviceBytes,
    bool Expired) : IMessage<LeaseInfo>
{
    /// <summary>Class names are cut to this on the wire; the daemon allows no longer ones.</summary>
    public const int MaxClassNameBytes = 32;

    public const int MaxEncodedBytes = 4 + 2 + MaxClassNameBytes + 8 + 8 + 8 + 8 + 8 + 8 + 1;

    public static LeaseInfo Read(ref PayloadReader reader) => new(
        reader.ReadUInt32(), reader.ReadString(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadInt64(),
        reader.ReadInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadBoolean());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Id);
        writer.WriteString(Class, MaxClassNameBytes);
        writer.WriteUInt64(GpuNsUsed);
        writer.WriteUInt64(MaxGpuNs);
        writer.WriteInt64(AcquiredAtUnixMs);
        writer.WriteInt64(ExpiresAtUnixMs);
        writer.WriteUInt64(DeviceBytes);
        writer.WriteUInt64(MaxDeviceBytes);
        writer.WriteBoolean(Expired);
    }
}
