using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>The class a session's steps run in (its lease's, else the default class) and its lease, if it holds one.</summary>
public readonly record struct SessionClassEntry(string Class, LeaseInfo? Lease) : IMessage<SessionClassEntry>
{
    public const int MaxEncodedBytes = 2 + LeaseInfo.MaxClassNameBytes + LeaseReport.MaxEncodedBytes;

    public static SessionClassEntry Read(ref PayloadReader reader)
    {
        var name = reader.ReadString();
        return new(name, LeaseReport.Read(ref reader).Lease);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteString(Class, LeaseInfo.MaxClassNameBytes);
        new LeaseReport(Lease).Write(ref writer);
    }
}
