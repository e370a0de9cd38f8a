using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

public readonly record struct ModelRegistered(uint Model, uint TensorCount, ulong Bytes, ModelTier Tier, uint Groups) : IMessage<ModelRegistered>
{
    public static ModelRegistered Read(ref PayloadReader reader) =>
        new(reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt64(), (ModelTier)reader.ReadByte(), reader.ReadUInt32());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Model);
        writer.WriteUInt32(TensorCount);
        writer.WriteUInt64(Bytes);
        writer.WriteByte((byte)Tier);
        writer.WriteUInt32(Groups);
    }
}
