using System.Diagnostics;
using GpuMux.Engine.Memory;
using GpuMux.Gpu;

namespace GpuMux.Bench.Memory;

/// <summary>
/// The mapping half of a swap-in as the engine does it, in isolation: a model's range reserved
/// once, then mapped (one map call per page and one access call for the range) and unmapped (one
/// unmap per page) again and again. No bytes are copied: this is what a swap-in costs beyond its copy.
/// </summary>
internal static class PoolBenchmark
{
    public static (PoolCreation Creation, List<PoolMeasurement> Measurements) Measure(GpuContext context, ulong pageBytes, PoolOptions options)
    {
        var created = Stopwatch.StartNew();
        using var pool = new DevicePagePool(context, options.PoolBytes, pageBytes);
        var creation = new PoolCreation(pool.PageBytes, (int)(pool.BudgetBytes / pool.PageBytes), created.Elapsed.TotalMilliseconds);

        var measurements = new List<PoolMeasurement>();
        foreach (var gib in options.ModelGib)
        {
            var model = pool.Reserve((ulong)gib << 30);
            try
            {
                measurements.Add(SwapInAndEvict(pool, model, options.Repeats));
            }
            finally
            {
                pool.Release(model);
            }
        }
        return (creation, measurements);
    }

    private static PoolMeasurement SwapInAndEvict(DevicePagePool pool, DeviceRange model, int repeats)
    {
        var swapIns = new List<double>(repeats);
        var evictions = new List<double>(repeats);
        MappingCalls swapInCalls = default, evictionCalls = default;
        for (var i = 0; i < repeats; i++)
        {
            var before = pool.Calls;
            var timer = Stopwatch.StartNew();
            if (!pool.TryMap(model))
            {
                throw new InvalidOperationException($"the pool of {pool.BudgetBytes} bytes cannot map a model of {model.Bytes}");
            }
            swapIns.Add(timer.Elapsed.TotalMilliseconds);
            var mapped = pool.Calls;
            timer.Restart();
            pool.Unmap(model);
            evictions.Add(timer.Elapsed.TotalMilliseconds);
            swapInCalls = Difference(mapped, before);
            evictionCalls = Difference(pool.Calls, mapped);
        }
        return new PoolMeasurement(pool.PageBytes, model.Bytes, swapInCalls, evictionCalls, swapIns, evictions);
    }

    private static MappingCalls Difference(MappingCalls after, MappingCalls before) =>
        new(after.Maps - before.Maps, after.AccessChanges - before.AccessChanges, after.Unmaps - before.Unmaps);
}
