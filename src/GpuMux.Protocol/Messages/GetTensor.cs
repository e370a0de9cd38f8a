using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

public readonly record struct GetTensor(uint Model, string Name) : IMessage<GetTensor>
{
    public static GetTensor Read(ref PayloadReader reader) => new(reader.ReadUInt32(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Model);
        writer.WriteString(Name);
    }
}
