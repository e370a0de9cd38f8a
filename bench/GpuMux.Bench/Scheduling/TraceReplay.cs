using GpuMux.Bench.Models;
using GpuMux.Engine;
using GpuMux.Engine.Device;
using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

/// <summary>Plays one trace against a fresh engine under one scheduling policy.</summary>
internal static class TraceReplay
{
    /// <summary>
    /// The uid every model's session runs under: one service serving many models, as a
    /// marketplace's does, so that its steps go in deadline order rather than by tenants' shares.
    /// </summary>
    public const uint ServiceUid = 2000;

    private const ulong PinnedHeadroomBytes = 64UL << 20;

    private const ulong PageBytes = 2UL << 20;

    /// <summary>
    /// Starts an engine under <paramref name="policy"/>, opens a session per model, then registers
    /// the models in popularity order (so that under the Dedicated policy the most popular get
    /// the device), runs one step of each model that the pool holds, then plays
    /// <paramref name="requests"/> from now, each model's through its own <see cref="ModelDecoder"/>.
    /// </summary>
    public static async Task<PolicyRun> RunAsync(
        GpuBackend backend, TraceParameters parameters, SchedulingPolicy policy, double rate,
        IReadOnlyList<SyntheticModel> models, IReadOnlyList<TraceRequest> requests, float[] x)
    {
        var modelPages = models.Sum(m => (long)((m.Geometry.Bytes + PageBytes - 1) / PageBytes * PageBytes));
        var options = new EngineOptions
        {
            DevicePoolBytes = (ulong)parameters.PoolMib << 20,
            PinnedPoolBytes = (ulong)modelPages + PinnedHeadroomBytes,
            LayerGroupTensors = 1,
            MaxOpsPerStep = Math.Max(256, (2 * models.Max(m => m.Geometry.Layers)) + 1),
            Scheduling = new SchedulingOptions { Policy = policy, SwapAmortization = parameters.SwapAmortization },
        };
        await using var engine = await GpuEngine.StartAsync(backend, options).ConfigureAwait(false);
        var sessions = new List<ModelSession>();
        try
        {
            for (var rank = 0; rank < models.Count; rank++)
            {
                sessions.Add(await ModelSession.OpenAsync(engine, models[rank], ServiceUid, x, parameters.StepComputeMicroseconds).ConfigureAwait(false));
            }
            // Every session's buffers first: under the Dedicated policy, models registered take the pool as they fit.
            foreach (var session in sessions)
            {
                await session.RegisterAsync().ConfigureAwait(false);
            }
            // A warm start, as a running service has: the most popular models that fit are resident, and
            // every page of the pool has been mapped once. On the Sim backend the first mapping of a page
            // costs the host allocating and populating it, on the engine thread, which a GPU does not pay.
            foreach (var session in sessions.Take(ModelsFillingPool(parameters, models[0].Geometry)).Where(s => s.Refusal is null))
            {
                await session.WarmUpAsync().ConfigureAwait(false);
            }
            var swapsBefore = (await engine.GetModelsAsync().ConfigureAwait(false)).Sum(m => m.SwapCount);

            var startNs = MonotonicClock.NowNanoseconds();
            var cutoffNs = startNs + Nanoseconds(parameters.DurationSeconds + parameters.DrainSeconds);
            var decoders = sessions.Select(s => new ModelDecoder(s, parameters.SloMilliseconds, cutoffNs)).ToList();
            var running = new List<Task<RequestOutcome>>(requests.Count);
            foreach (var request in requests)
            {
                var arrivalNs = startNs + Nanoseconds(request.ArrivalSeconds);
                var wait = arrivalNs - MonotonicClock.NowNanoseconds();
                if (wait > 0)
                {
                    // Rounded up: a request never starts before it arrives, and any lateness counts against the engine.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait / 1e6))).ConfigureAwait(false);
                }
                running.Add(decoders[request.Model].ServeAsync(request, arrivalNs));
            }
            var outcomes = await Task.WhenAll(running).ConfigureAwait(false);
            var elapsedSeconds = (MonotonicClock.NowNanoseconds() - startNs) / 1e9;
            var figures = await engine.GetModelsAsync().ConfigureAwait(false);
            return new PolicyRun(
                policy,
                rate,
                parameters.SloMilliseconds,
                models.Count,
                outcomes,
                [.. sessions.Select(s => s.Refusal)],
                decoders.Sum(d => d.Steps),
                figures.Sum(m => m.SwapCount) - swapsBefore,
                sessions.Sum(s => s.WrongResults),
                elapsedSeconds);
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The fewest models, by rank, whose weights take every page of the pool: one more than fit beside the sessions' buffers.</summary>
    private static int ModelsFillingPool(TraceParameters parameters, ModelGeometry geometry)
    {
        var room = (ulong)(parameters.PoolMib - (parameters.Models * TraceOptions.SessionPageMib)) << 20;
        return (int)Math.Min((ulong)parameters.Models, (room / geometry.Bytes) + 1);
    }

    private static long Nanoseconds(double seconds) => (long)(seconds * 1e9);
}
