using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>One model as ModelList describes it. Zero stands for "never" and "not measured yet".</summary>
public readonly record struct ModelEntry(
    ulong SessionId,
    uint Model,
    string Name,
    uint OwnerUid,
    ulong Bytes,
    uint TensorCount,
    uint Groups,
    ModelTier Tier,
    bool Resident,
    long LastUsedUnixMs,
    ulong SwapCount,
    double MedianSwapInBytesPerSecond) : IMessage<ModelEntry>
{
    /// <summary>Names are cut to this in a list, which bounds an entry's size.</summary>
    public const int MaxNameBytes = 64;

    public const int MaxEncodedBytes = 8 + 4 + 2 + MaxNameBytes + 4 + 8 + 4 + 4 + 1 + 1 + 8 + 8 + 8;

    public static ModelEntry Read(ref PayloadReader reader) => new(
        reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadString(), reader.ReadUInt32(), reader.ReadUInt64(),
        reader.ReadUInt32(), reader.ReadUInt32(), (ModelTier)reader.ReadByte(), reader.ReadBoolean(), reader.ReadInt64(),
        reader.ReadUInt64(), reader.ReadDouble());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt64(SessionId);
        writer.WriteUInt32(Model);
        writer.WriteString(Name, MaxNameBytes);
        writer.WriteUInt32(OwnerUid);
        writer.WriteUInt64(Bytes);
        writer.WriteUInt32(TensorCount);
        writer.WriteUInt32(Groups);
        writer.WriteByte((byte)Tier);
        writer.WriteBoolean(Resident);
        writer.WriteInt64(LastUsedUnixMs);
        writer.WriteUInt64(SwapCount);
        writer.WriteDouble(MedianSwapInBytesPerSecond);
    }
}
