using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

public readonly record struct TensorFound(uint Tensor, ulong Bytes, uint Group) : IMessage<TensorFound>
{
    public static TensorFound Read(ref PayloadReader reader) => new(reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt32());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Tensor);
        writer.WriteUInt64(Bytes);
        writer.WriteUInt32(Group);
    }
}
