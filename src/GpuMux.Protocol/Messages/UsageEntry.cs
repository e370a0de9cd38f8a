using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// What a tenant's or a model's steps have used since the daemon started: device time, steps run,
/// swap-ins, bytes moved (step copies and swap-ins), and percentiles of the steps' waits from
/// submission to their start on the device, NaN before any step ran.
/// </summary>
public readonly record struct UsageEntry(
    double GpuSeconds,
    ulong Steps,
    ulong Swaps,
    ulong BytesMoved,
    double QueueDelayP50Ms,
    double QueueDelayP99Ms) : IMessage<UsageEntry>
{
    public const int EncodedBytes = 6 * 8;

    public static UsageEntry Read(ref PayloadReader reader) => new(
        reader.ReadDouble(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadDouble(), reader.ReadDouble());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteDouble(GpuSeconds);
        writer.WriteUInt64(Steps);
        writer.WriteUInt64(Swaps);
        writer.WriteUInt64(BytesMoved);
        writer.WriteDouble(QueueDelayP50Ms);
        writer.WriteDouble(QueueDelayP99Ms);
    }
}
