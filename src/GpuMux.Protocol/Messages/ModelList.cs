using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The daemon's memory pools and every session's models; as many entries as fit in one frame, with
/// <see cref="ModelsTotal"/> saying how many there are.
/// </summary>
public readonly record struct ModelList(
    ulong DevicePoolBytes,
    ulong DevicePoolFreeBytes,
    ulong PinnedPoolBytes,
    ulong PinnedPoolFreeBytes,
    uint ModelsTotal,
    IReadOnlyList<ModelEntry> Models) : IMessage<ModelList>
{
    public const int FixedBytes = 4 * 8 + 4 + 2;

    public static ModelList Read(ref PayloadReader reader)
    {
        var devicePool = reader.ReadUInt64();
        var deviceFree = reader.ReadUInt64();
        var pinnedPool = reader.ReadUInt64();
        var pinnedFree = reader.ReadUInt64();
        var total = reader.ReadUInt32();
        var models = new ModelEntry[reader.ReadUInt16()];
        for (var i = 0; i < models.Length; i++)
        {
            models[i] = ModelEntry.Read(ref reader);
        }

        return new(devicePool, deviceFree, pinnedPool, pinnedFree, total, models);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt64(DevicePoolBytes);
        writer.WriteUInt64(DevicePoolFreeBytes);
        writer.WriteUInt64(PinnedPoolBytes);
        writer.WriteUInt64(PinnedPoolFreeBytes);
        writer.WriteUInt32(ModelsTotal);
        writer.WriteUInt16((ushort)Models.Count);
        foreach (var model in Models)
        {
            model.Write(ref writer);
        }
    }
}
