using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

public readonly record struct ModuleLoaded(uint Module, bool FromCache, string CompileLog) : IMessage<ModuleLoaded>
{
    /// <summary>A compile log longer than this is cut, so the reply fits in any frame the daemon allows.</summary>
    public const int MaxLogBytes = 2048;

    public static ModuleLoaded Read(ref PayloadReader reader) => new(reader.ReadUInt32(), reader.ReadBoolean(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Module);
        writer.WriteBoolean(FromCache);
        writer.WriteString(CompileLog, MaxLogBytes);
    }
}
