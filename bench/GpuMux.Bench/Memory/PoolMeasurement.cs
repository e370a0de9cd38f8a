using GpuMux.Engine.Memory;

namespace GpuMux.Bench.Memory;

/// <summary>
/// Swap-ins and evictions of one model in a pool of one page size: the driver calls each made
/// (the same every time) and the host time each took, in milliseconds.
/// </summary>
internal sealed record PoolMeasurement(
    ulong PageBytes,
    ulong ModelBytes,
    MappingCalls SwapInCalls,
    MappingCalls EvictionCalls,
    IReadOnlyList<double> SwapInMilliseconds,
    IReadOnlyList<double> EvictionMilliseconds)
{
    public SampleStatistics SwapIn => SampleStatistics.Of(SwapInMilliseconds);

    public SampleStatistics Eviction => SampleStatistics.Of(EvictionMilliseconds);
}

/// <summary>Making the pool itself: one physical allocation per page, when the engine starts.</summary>
internal sealed record PoolCreation(ulong PageBytes, int Pages, double Milliseconds);
