using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

public readonly record struct ErrorMessage(ErrorCode Code, string Text) : IMessage<ErrorMessage>
{
    /// <summary>Error texts are cut to this, so an error always fits the smallest frame.</summary>
    public const int MaxTextBytes = 1024;

    public static ErrorMessage Read(ref PayloadReader reader) => new((ErrorCode)reader.ReadUInt16(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt16((ushort)Code);
        writer.WriteString(Text, MaxTextBytes);
    }
}
