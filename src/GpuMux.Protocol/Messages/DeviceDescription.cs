using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>A device as the daemon describes it in Welcome and StatusReport.</summary>
public readonly record struct DeviceDescription(
    ushort Ordinal,
    string Name,
    ulong TotalMemoryBytes,
    byte ComputeMajor,
    byte ComputeMinor,
    ushort Multiprocessors,
    string PciBusId) : IMessage<DeviceDescription>
{
    public static DeviceDescription Read(ref PayloadReader reader) => new(
        reader.ReadUInt16(), reader.ReadString(), reader.ReadUInt64(), reader.ReadByte(), reader.ReadByte(),
        reader.ReadUInt16(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt16(Ordinal);
        writer.WriteString(Name);
        writer.WriteUInt64(TotalMemoryBytes);
        writer.WriteByte(ComputeMajor);
        writer.WriteByte(ComputeMinor);
        writer.WriteUInt16(Multiprocessors);
        writer.WriteString(PciBusId);
    }
}
