using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>Looks a kernel up by its exported name; module 0 holds the built-in kernels.</summary>
public readonly record struct GetFunction(uint Module, string Name) : IMessage<GetFunction>
{
    public const uint BuiltinModule = 0;

    public static GetFunction Read(ref PayloadReader reader) => new(reader.ReadUInt32(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Module);
        writer.WriteString(Name);
    }
}
