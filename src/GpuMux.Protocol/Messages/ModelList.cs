using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The daemon's memory pools and the models the asker may see, as many as fit in one frame;
/// <see cref="ModelsTotal"/> counts every model. <see cref="Usage"/>, one per entry in the same
/// order, follows the entries for a session that speaks 1.3 or later, and <see cref="Others"/>,
/// the models left out for belonging to other tenants, summed up, for one that speaks 1.4, and
/// <see cref="Spills"/> for one that speaks 1.6; each is null otherwise.
/// </summary>
public readonly record struct ModelList(
    ulong DevicePoolBytes,
    ulong DevicePoolFreeBytes,
    ulong PinnedPoolBytes,
    ulong PinnedPoolFreeBytes,
    uint ModelsTotal,
    IReadOnlyList<ModelEntry> Models,
    IReadOnlyList<UsageEntry>? Usage = null,
    OtherModels? Others = null,
    SpillSummary? Spills = null) : IMessage<ModelList>
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

        // A 1.2 list ends after its entries; a 1.3 list goes on with their usage, and a 1.4 list further.
        UsageEntry[]? usage = null;
        if (reader.Remaining > 0)
        {
            usage = new UsageEntry[models.Length];
            for (var i = 0; i < usage.Length; i++)
            {
                usage[i] = UsageEntry.Read(ref reader);
            }
        }

        OtherModels? others = reader.Remaining > 0 ? OtherModels.Read(ref reader) : null;
        SpillSummary? spills = reader.Remaining > 0 ? SpillSummary.Read(ref reader) : null;
        return new(devicePool, deviceFree, pinnedPool, pinnedFree, total, models, usage, others, spills);
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

        if (Usage is { } usage)
        {
            if (usage.Count != Models.Count)
            {
                throw new InvalidOperationException($"{usage.Count} models' usage for {Models.Count} models");
            }

            foreach (var entry in usage)
            {
                entry.Write(ref writer);
            }
        }

        if (Others is { } others)
        {
            if (Usage is null)
            {
                throw new InvalidOperationException("the 1.4 part of a model list follows its 1.3 part");
            }

            others.Write(ref writer);
        }

        if (Spills is { } spills)
        {
            if (Others is null)
            {
                throw new InvalidOperationException("the 1.6 part of a model list follows its 1.4 part");
            }

            spills.Write(ref writer);
        }
    }
}
