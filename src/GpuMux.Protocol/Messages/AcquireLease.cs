using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// Asks for a lease: the class the session's steps run in (empty for the daemon's default class)
/// and its budgets, each 0 for none.
/// </summary>
public readonly record struct AcquireLease(string Class, ulong MaxGpuMs, ulong MaxDurationMs, ulong MaxDeviceBytes) : IMessage<AcquireLease>
{
    public static AcquireLease Read(ref PayloadReader reader) =>
        new(reader.ReadString(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteString(Class);
        writer.WriteUInt64(MaxGpuMs);
        writer.WriteUInt64(MaxDurationMs);
        writer.WriteUInt64(MaxDeviceBytes);
    }
}
