using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The session's lease, or null when it holds none. On the wire a has_lease bool comes first, and
/// the lease's fields follow either way (all zero, the class empty, when there is none).
/// </summary>
public readonly record struct LeaseReport(LeaseInfo? Lease) : IMessage<LeaseReport>
{
    public const int MaxEncodedBytes = 1 + LeaseInfo.MaxEncodedBytes;

    public static LeaseReport Read(ref PayloadReader reader)
    {
        var held = reader.ReadBoolean();
        var lease = LeaseInfo.Read(ref reader);
        return new(held ? lease : null);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteBoolean(Lease.HasValue);
        (Lease ?? new LeaseInfo(0, string.Empty, 0, 0, 0, 0, 0, 0, false)).Write(ref writer);
    }
}
