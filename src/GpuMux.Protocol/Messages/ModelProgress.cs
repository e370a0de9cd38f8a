using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

public readonly record struct ModelProgress(ulong StagedBytes, ulong TotalBytes) : IMessage<ModelProgress>
{
    public static ModelProgress Read(ref PayloadReader reader) => new(reader.ReadUInt64(), reader.ReadUInt64());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt64(StagedBytes);
        writer.WriteUInt64(TotalBytes);
    }
}
