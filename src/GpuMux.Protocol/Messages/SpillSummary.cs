using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The part of ModelList that protocol 1.6 added at its end: spillable buffers held in host memory
/// now, over all sessions, and the spills and restores since the daemon started, in the buffers' bytes.
/// </summary>
public readonly record struct SpillSummary(uint SpilledBuffers, ulong SpilledBytes, ulong Spills, ulong SpillBytes, ulong Restores, ulong RestoreBytes) : IMessage<SpillSummary>
{
    public const int EncodedBytes = 4 + (5 * 8);

    public static SpillSummary Read(ref PayloadReader reader) =>
        new(reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(SpilledBuffers);
        writer.WriteUInt64(SpilledBytes);
        writer.WriteUInt64(Spills);
        writer.WriteUInt64(SpillBytes);
        writer.WriteUInt64(Restores);
        writer.WriteUInt64(RestoreBytes);
    }
}
