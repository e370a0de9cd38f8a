using GpuMux.Bench.Copies;
using GpuMux.Engine;
using GpuMux.Gpu;

namespace GpuMux.Bench.Models;

/// <summary>The measurements: the copy probe's baselines, then an in-process engine per size and per chunk size of the sweep.</summary>
internal static class SwapBenchmark
{
    private const int BaselineWarmup = 2;

    // Room beside one model for the session's buffers (x and every layer's y: a page or two),
    // and far less than a second model: every use of the other model is a full swap-in.
    private const ulong PoolHeadroomBytes = 16UL << 20;

    private const ulong PinnedHeadroomBytes = 64UL << 20;

    private const ulong PageBytes = 2UL << 20;

    /// <summary>
    /// Pinned and pageable host-to-device copies of each byte count, by the bandwidth command's
    /// probe. Run before any engine: a device has one context, and the probe holds it on this thread.
    /// </summary>
    public static Dictionary<ulong, CopyBaseline> MeasureBaselines(GpuBackend backend, IEnumerable<ulong> byteCounts, int repeats)
    {
        using var context = backend.CreateContext(0);
        var baselines = new Dictionary<ulong, CopyBaseline>();
        foreach (var bytes in byteCounts.Distinct().Order())
        {
            Console.Error.WriteLine($"baseline: {BaselineWarmup} warm-up and {repeats} timed host-to-device copies of {bytes >> 20} MiB, pinned and pageable");
            using var probe = new CopyBandwidthProbe(context, bytes);
            var pinned = probe.Measure(new CopyCase(CopyDirection.HostToDevice, HostMemoryKind.Pinned), BaselineWarmup, repeats, seed: 1);
            var pageable = probe.Measure(new CopyCase(CopyDirection.HostToDevice, HostMemoryKind.Pageable), BaselineWarmup, repeats, seed: 2);
            baselines[bytes] = new CopyBaseline(bytes, pinned, pageable);
        }
        return baselines;
    }

    /// <summary>
    /// Starts an engine whose device pool holds one of <paramref name="a"/> and <paramref name="b"/>,
    /// registers both, and swaps them in by turns, <paramref name="repeats"/> times each. With
    /// <paramref name="withSteps"/>, then <paramref name="repeats"/> rounds, alternating the
    /// models, of a cold step (the model evicted) and the same step again (resident).
    /// </summary>
    public static async Task<ModelRun> MeasureAsync(GpuBackend backend, SyntheticModel a, SyntheticModel b, float[] x, ulong chunkBytes, int repeats, bool withSteps)
    {
        var geometry = a.Geometry;
        var modelPages = (geometry.Bytes + PageBytes - 1) / PageBytes * PageBytes;
        var options = new EngineOptions
        {
            DevicePoolBytes = modelPages + PoolHeadroomBytes,
            PinnedPoolBytes = (2 * modelPages) + PinnedHeadroomBytes,
            LayerGroupTensors = 1,
            SwapChunkBytes = chunkBytes,
            MaxOpsPerStep = Math.Max(256, geometry.Layers + 8),
        };
        await using var engine = await GpuEngine.StartAsync(backend, options).ConfigureAwait(false);
        var pool = (await engine.GetStatusAsync().ConfigureAwait(false)).DevicePoolBytes;
        await using var tenant = await SwapTenant.OpenAsync(engine, geometry, x).ConfigureAwait(false);
        RegisteredModel[] models = [await tenant.RegisterAsync(a).ConfigureAwait(false), await tenant.RegisterAsync(b).ConfigureAwait(false)];

        var swaps = new List<StepSample>();
        for (var i = 0; i < 2 * repeats; i++)
        {
            swaps.Add(await tenant.SwapInAsync(models[i % 2]).ConfigureAwait(false));
        }
        var figures = await engine.GetModelsAsync().ConfigureAwait(false);

        var cold = new List<StepSample>();
        var resident = new List<StepSample>();
        for (var round = 0; withSteps && round < repeats; round++)
        {
            // The other model was used last, so this one is evicted.
            var model = models[round % 2];
            cold.Add(await tenant.RunLayersAsync(model).ConfigureAwait(false));
            resident.Add(await tenant.RunLayersAsync(model).ConfigureAwait(false));
        }

        var swapIns = (await engine.GetModelsAsync().ConfigureAwait(false)).Sum(m => m.SwapCount);
        if (swapIns != swaps.Count + cold.Count)
        {
            throw new InvalidOperationException(
                $"{swapIns} swap-ins for {swaps.Count + cold.Count} steps of an evicted model: a device pool of {pool} bytes did not force one per step with models of {geometry.Bytes} bytes");
        }
        return new ModelRun(geometry, chunkBytes, pool, swaps, figures, cold, resident);
    }
}
