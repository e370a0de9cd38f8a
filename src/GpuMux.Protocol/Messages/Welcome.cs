using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>The daemon's answer to Hello: the agreed version, its limits, and what it runs on.</summary>
public readonly record struct Welcome(
    ushort Major,
    ushort Minor,
    ulong Capabilities,
    uint MaxPayloadBytes,
    ulong SessionId,
    BackendKind Backend,
    string BackendDescription,
    IReadOnlyList<DeviceDescription> Devices) : IMessage<Welcome>
{
    public static Welcome Read(ref PayloadReader reader)
    {
        var magic = reader.ReadUInt32();
        if (magic != ProtocolVersion.Magic)
        {
            throw new MalformedPayloadException($"Welcome carries magic 0x{magic:x8}, not 0x{ProtocolVersion.Magic:x8}");
        }

        var major = reader.ReadUInt16();
        var minor = reader.ReadUInt16();
        var capabilities = reader.ReadUInt64();
        var maxPayload = reader.ReadUInt32();
        var sessionId = reader.ReadUInt64();
        var backend = (BackendKind)reader.ReadByte();
        var description = reader.ReadString();
        var devices = new DeviceDescription[reader.ReadUInt16()];
        for (var i = 0; i < devices.Length; i++)
        {
            devices[i] = DeviceDescription.Read(ref reader);
        }

        return new(major, minor, capabilities, maxPayload, sessionId, backend, description, devices);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(ProtocolVersion.Magic);
        writer.WriteUInt16(Major);
        writer.WriteUInt16(Minor);
        writer.WriteUInt64(Capabilities);
        writer.WriteUInt32(MaxPayloadBytes);
        writer.WriteUInt64(SessionId);
        writer.WriteByte((byte)Backend);
        writer.WriteString(BackendDescription);
        writer.WriteUInt16((ushort)Devices.Count);
        foreach (var device in Devices)
        {
            device.Write(ref writer);
        }
    }
}
