using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The part of StatusReport that protocol 1.4 added at its end: the sessions the report leaves out
/// because they belong to other tenants than the one asking, summed up. All zero for an
/// administrator, who is shown every session.
/// </summary>
public readonly record struct OtherSessions(uint Tenants, uint Sessions, ulong BufferBytes, uint StepsQueued, uint StepsRunning) : IMessage<OtherSessions>
{
    public const int EncodedBytes = 4 + 4 + 8 + 4 + 4;

    public static OtherSessions Read(ref PayloadReader reader) =>
        new(reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadUInt32());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Tenants);
        writer.WriteUInt32(Sessions);
        writer.WriteUInt64(BufferBytes);
        writer.WriteUInt32(StepsQueued);
        writer.WriteUInt32(StepsRunning);
    }
}
