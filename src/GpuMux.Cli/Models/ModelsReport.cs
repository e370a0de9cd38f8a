using System.Text.Json.Serialization;
using GpuMux.Cli.Output;
using GpuMux.Protocol.Messages;

namespace GpuMux.Cli.Models;

/// <summary>
/// What <c>gpumuxctl models</c> shows: the daemon's ModelList, with units in the names and "never"
/// as null. <see cref="OtherTenants"/> sums up the models the daemon did not show (other tenants',
/// to anyone but an administrator); null from a daemon older than protocol 1.4. <see cref="BufferSpills"/>
/// counts the spillable buffers held in host memory and their spills and restores; null from a
/// daemon older than 1.6.
/// </summary>
internal sealed record ModelsReport(
    string Socket, PoolStatus DevicePool, PoolStatus PinnedPool, uint ModelsTotal, IReadOnlyList<ModelStatus> Models, OtherTenantsModels? OtherTenants, BufferSpills? BufferSpills = null)
{
    public static ModelsReport From(string socket, ModelList list) => new(
        socket,
        PoolStatus.From(list.DevicePoolBytes, list.DevicePoolFreeBytes),
        PoolStatus.From(list.PinnedPoolBytes, list.PinnedPoolFreeBytes),
        list.ModelsTotal,
        [.. list.Models.Select((entry, i) => ModelStatus.From(entry, list.Usage?[i]))],
        list.Others is { } others ? new OtherTenantsModels(others.Models, others.Bytes, others.Resident) : null,
        list.Spills is { } spills ? new BufferSpills(spills.SpilledBuffers, spills.SpilledBytes, spills.Spills, spills.SpillBytes, spills.Restores, spills.RestoreBytes) : null);

    /// <summary>Models neither listed nor summed up in <see cref="OtherTenants"/>: those that did not fit in the daemon's report.</summary>
    [JsonIgnore]
    public uint ModelsNotListed => ModelsTotal - (uint)Models.Count - (OtherTenants?.Models ?? 0);
}

/// <summary>Other tenants' models, which the daemon shows only to its administrators, summed up; <see cref="Resident"/> of them are on the device.</summary>
internal sealed record OtherTenantsModels(uint Models, ulong Bytes, uint Resident);

/// <summary>Buffers in host memory now, over all sessions, and the spills and restores so far, in the buffers' bytes.</summary>
internal sealed record BufferSpills(uint SpilledBuffers, ulong SpilledBytes, ulong Spills, ulong SpillBytes, ulong Restores, ulong RestoreBytes);

internal sealed record PoolStatus(ulong TotalBytes, ulong FreeBytes, ulong UsedBytes)
{
    public static PoolStatus From(ulong total, ulong free) => new(total, free, total - Math.Min(free, total));
}

/// <param name="LastUsedAt">When a step last used the model; null if none has.</param>
/// <param name="MedianSwapInBytesPerSecond">Over its swaps onto the device; null until it has swapped in.</param>
/// <param name="Usage">What its steps have used; null from a daemon that speaks 1.2, which does not say.</param>
internal sealed record ModelStatus(
    ulong Session,
    uint Handle,
    string Name,
    uint OwnerUid,
    ulong Bytes,
    uint Tensors,
    uint Groups,
    string Tier,
    bool Resident,
    DateTimeOffset? LastUsedAt,
    ulong Swaps,
    double? MedianSwapInBytesPerSecond,
    ModelUsage? Usage)
{
    public static ModelStatus From(ModelEntry entry, UsageEntry? usage) => new(
        entry.SessionId,
        entry.Model,
        entry.Name,
        entry.OwnerUid,
        entry.Bytes,
        entry.TensorCount,
        entry.Groups,
        entry.Tier.ToString().ToLowerInvariant(),
        entry.Resident,
        entry.LastUsedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(entry.LastUsedUnixMs) : null,
        entry.SwapCount,
        // JSON has no NaN or infinity, and a rate that is not positive was never measured.
        double.IsFinite(entry.MedianSwapInBytesPerSecond) && entry.MedianSwapInBytesPerSecond > 0 ? entry.MedianSwapInBytesPerSecond : null,
        usage is { } used ? ModelUsage.From(used) : null);
}

/// <summary>A model's steps since the daemon started: device time, how many ran, bytes they and its swap-ins moved, and their waits before the device (null before any ran).</summary>
internal sealed record ModelUsage(double GpuSeconds, ulong Steps, ulong BytesMoved, double? QueueDelayP50Ms, double? QueueDelayP99Ms)
{
    public static ModelUsage From(UsageEntry usage) => new(
        usage.GpuSeconds,
        usage.Steps,
        usage.BytesMoved,
        WireNumbers.Measured(usage.QueueDelayP50Ms),
        WireNumbers.Measured(usage.QueueDelayP99Ms));
}
