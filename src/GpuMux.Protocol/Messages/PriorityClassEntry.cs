using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// One priority class as StatusReport lists it: its CUDA stream priority (lower is more urgent),
/// its steps waiting and on the device, and its share of device time over the daemon's share
/// window against the share it is owed while it has work.
/// </summary>
public readonly record struct PriorityClassEntry(
    string Name,
    int StreamPriority,
    uint StepsQueued,
    uint StepsOnDevice,
    double RecentShare,
    double MinimumShare) : IMessage<PriorityClassEntry>
{
    public const int MaxEncodedBytes = 2 + LeaseInfo.MaxClassNameBytes + 4 + 4 + 4 + 8 + 8;

    public static PriorityClassEntry Read(ref PayloadReader reader) => new(
        reader.ReadString(), reader.ReadInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadDouble(), reader.ReadDouble());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteString(Name, LeaseInfo.MaxClassNameBytes);
        writer.WriteInt32(StreamPriority);
        writer.WriteUInt32(StepsQueued);
        writer.WriteUInt32(StepsOnDevice);
        writer.WriteDouble(RecentShare);
        writer.WriteDouble(MinimumShare);
    }
}
