using GpuMux.Protocol.Messages;

namespace GpuMux.Cli.Models;

/// <summary>What <c>gpumuxctl models</c> shows: the daemon's ModelList, with units in the names and "never" as null.</summary>
internal sealed record ModelsReport(string Socket, PoolStatus DevicePool, PoolStatus PinnedPool, uint ModelsTotal, IReadOnlyList<ModelStatus> Models)
{
    public static ModelsReport From(string socket, ModelList list) => new(
        socket,
        PoolStatus.From(list.DevicePoolBytes, list.DevicePoolFreeBytes),
        PoolStatus.From(list.PinnedPoolBytes, list.PinnedPoolFreeBytes),
        list.ModelsTotal,
        [.. list.Models.Select(ModelStatus.From)]);
}

internal sealed record PoolStatus(ulong TotalBytes, ulong FreeBytes, ulong UsedBytes)
{
    public static PoolStatus From(ulong total, ulong free) => new(total, free, total - Math.Min(free, total));
}

/// <param name="LastUsedAt">When a step last used the model; null if none has.</param>
/// <param name="MedianSwapInBytesPerSecond">Over its swaps onto the device; null until it has swapped in.</param>
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
    double? MedianSwapInBytesPerSecond)
{
    public static ModelStatus From(ModelEntry entry) => new(
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
        double.IsFinite(entry.MedianSwapInBytesPerSecond) && entry.MedianSwapInBytesPerSecond > 0 ? entry.MedianSwapInBytesPerSecond : null);
}
