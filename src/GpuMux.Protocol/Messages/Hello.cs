using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>The first frame a client sends.</summary>
public readonly record struct Hello(uint Magic, ushort Major, ushort Minor, ulong Capabilities, string ClientName) : IMessage<Hello>
{
    public static Hello ForThisVersion(string clientName, Protocol.Capabilities capabilities = Protocol.Capabilities.None) =>
        new(ProtocolVersion.Magic, ProtocolVersion.Major, ProtocolVersion.Minor, (ulong)capabilities, clientName);

    public static Hello Read(ref PayloadReader reader) =>
        new(reader.ReadUInt32(), reader.ReadUInt16(), reader.ReadUInt16(), reader.ReadUInt64(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Magic);
        writer.WriteUInt16(Major);
        writer.WriteUInt16(Minor);
        writer.WriteUInt64(Capabilities);
        writer.WriteString(ClientName);
    }
}
