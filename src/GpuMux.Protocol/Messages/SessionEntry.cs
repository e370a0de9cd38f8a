using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>One connected session as StatusReport lists it.</summary>
public readonly record struct SessionEntry(
    ulong SessionId,
    uint Uid,
    uint Gid,
    int Pid,
    string ClientName,
    long ConnectedAtUnixMs,
    uint Buffers,
    ulong BufferBytes,
    uint Regions,
    ulong RegionBytes,
    uint Modules,
    uint StepsQueued,
    uint StepsRunning,
    ulong StepsCompleted,
    ulong StepsFailed) : IMessage<SessionEntry>
{
    public static SessionEntry Read(ref PayloadReader reader) => new(
        reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadInt32(), reader.ReadString(),
        reader.ReadInt64(), reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadUInt64(),
        reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt64());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt64(SessionId);
        writer.WriteUInt32(Uid);
        writer.WriteUInt32(Gid);
        writer.WriteInt32(Pid);
        writer.WriteString(ClientName, MaxClientNameBytes);
        writer.WriteInt64(ConnectedAtUnixMs);
        writer.WriteUInt32(Buffers);
        writer.WriteUInt64(BufferBytes);
        writer.WriteUInt32(Regions);
        writer.WriteUInt64(RegionBytes);
        writer.WriteUInt32(Modules);
        writer.WriteUInt32(StepsQueued);
        writer.WriteUInt32(StepsRunning);
        writer.WriteUInt64(StepsCompleted);
        writer.WriteUInt64(StepsFailed);
    }

    /// <summary>Names are cut to this in a report, which bounds an entry's size.</summary>
    public const int MaxClientNameBytes = 64;

    /// <summary>The most bytes one entry takes on the wire.</summary>
    public const int MaxEncodedBytes = 8 + 4 + 4 + 4 + 2 + MaxClientNameBytes + 8 + 4 + 8 + 4 + 8 + 4 + 4 + 4 + 8 + 8;
}
