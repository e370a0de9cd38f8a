using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>Loads a module whose image (source, PTX or cubin) is the first bytes of the frame's one descriptor.</summary>
public readonly record struct LoadModule(ModuleFormat Format, ulong ImageBytes, string Name) : IMessage<LoadModule>
{
    public static LoadModule Read(ref PayloadReader reader)
    {
        var format = (ModuleFormat)reader.ReadByte();
        if (!Enum.IsDefined(format))
        {
            throw new MalformedPayloadException($"module format {(byte)format} is not one of 1 (CUDA C), 2 (PTX), 3 (cubin)");
        }

        return new(format, reader.ReadUInt64(), reader.ReadString());
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteByte((byte)Format);
        writer.WriteUInt64(ImageBytes);
        writer.WriteString(Name);
    }
}
