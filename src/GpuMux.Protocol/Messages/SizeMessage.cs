using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// A payload of one u64 byte count: RegisterRegion's length (its memfd
/// rides with the frame).
/// </summary>
public readonly record struct SizeMessage(ulong Bytes) : IMessage<SizeMessage>
{
    public static SizeMessage Read(ref PayloadReader reader) => new(reader.ReadUInt64());

    public void Write(ref FrameWriter writer) => writer.WriteUInt64(Bytes);
}
