using System.Diagnostics;
using GpuMux.Client;
using GpuMux.Client.Llama;
using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;

namespace GpuMux.Bench.Llama;

/// <summary>The device memory a replay's daemon takes, and the checkpoints it serves, worked out once for every replay.</summary>
internal sealed record LlamaTraceSetup(BackendPreference Backend, LlamaTraceParameters Parameters, IReadOnlyList<string> ModelDirectories, ulong RunnerBytes, ulong CacheBytes)
{
    public const ulong PageBytes = 2UL << 20;

    /// <summary>A model's weights in whole pages of the pool, and one more for its tensors' alignment.</summary>
    public ulong ModelPoolBytes => (((ulong)Parameters.ModelBytes + PageBytes - 1) / PageBytes * PageBytes) + PageBytes;

    /// <summary>Room for every runner's working memory and every request a pass can hold, plus <see cref="LlamaTraceParameters.WeightsRoom"/> of the weights.</summary>
    public ulong DevicePoolBytes => ((ulong)Parameters.Models * (RunnerBytes + ((ulong)Parameters.MaxBatchRequests * CacheBytes))) + WeightsRoomBytes;

    public ulong WeightsRoomBytes => (ulong)Math.Ceiling(Parameters.WeightsRoom * Parameters.Models * ModelPoolBytes / PageBytes) * PageBytes;

    /// <summary>How many models' weights the pool holds at once, beside the buffers.</summary>
    public int ModelsFitting => (int)Math.Min((ulong)Parameters.Models, WeightsRoomBytes / ModelPoolBytes);

    public ulong PinnedPoolBytes => ((ulong)Parameters.Models * ModelPoolBytes) + (64UL << 20);

    public LlamaRunnerOptions RunnerOptions(int rank) => new()
    {
        Name = $"m{rank:00}",
        MaxBatchRequests = Parameters.MaxBatchRequests,
        MaxBatchTokens = Math.Max(Parameters.MaxBatchRequests, Parameters.MaxPromptTokens + Parameters.MaxBatchRequests),
    };

    /// <summary>
    /// Measures one runner's working memory (its buffers, in the pool's whole pages) on a daemon of
    /// its own, and sizes a request's KV cache as the runner allocates it: its prompt and longest
    /// output in pages of positions, keys and values of every layer in f32, in whole pool pages.
    /// </summary>
    public static async Task<LlamaTraceSetup> MeasureAsync(BackendPreference backend, LlamaTraceParameters parameters, IReadOnlyList<string> directories)
    {
        var probe = new LlamaTraceSetup(backend, parameters, directories, RunnerBytes: 64UL << 20, CacheBytes: PageBytes);
        ulong runnerBytes;
        await using (var daemon = await LlamaTraceDaemon.StartAsync(backend, SchedulingPolicy.Step, probe.DevicePoolBytes, probe.PinnedPoolBytes, parameters.SwapAmortization).ConfigureAwait(false))
        {
            await using var client = await daemon.ConnectAsync("GpuMux.Bench trace-llama probe").ConfigureAwait(false);
            var before = (await daemon.Engine.GetStatusAsync().ConfigureAwait(false)).DevicePoolFreeBytes;
            await using var runner = await LlamaRunner.OpenAsync(client, directories[0], probe.RunnerOptions(0)).ConfigureAwait(false);
            runnerBytes = before - (await daemon.Engine.GetStatusAsync().ConfigureAwait(false)).DevicePoolFreeBytes;
        }
        var config = parameters.Config;
        var pageTokens = new LlamaRunnerOptions().PageTokens;
        var positions = (parameters.MaxPromptTokens + parameters.MaxOutputTokens + pageTokens - 1) / pageTokens * pageTokens;
        var cacheBytes = 2UL * (ulong)config.NumHiddenLayers * (ulong)positions * (ulong)(config.NumKeyValueHeads * config.HeadDim) * sizeof(float);
        return probe with { RunnerBytes = runnerBytes, CacheBytes = (cacheBytes + PageBytes - 1) / PageBytes * PageBytes };
    }
}

/// <summary>Plays one trace against a fresh daemon under one scheduling policy.</summary>
internal static class LlamaTraceReplay
{
    /// <summary>
    /// Starts a daemon under <paramref name="policy"/>, opens a runner per model in popularity order,
    /// each on a connection of its own (under the Dedicated policy, those that do not fit are
    /// refused), has each model that fits generate a token, then plays <paramref name="requests"/>
    /// from now. What is not done by the window's end and the drain is cut off.
    /// </summary>
    public static async Task<LlamaPolicyRun> RunAsync(LlamaTraceSetup setup, SchedulingPolicy policy, double rate, IReadOnlyList<LlamaTraceRequest> requests)
    {
        var parameters = setup.Parameters;
        await using var daemon = await LlamaTraceDaemon.StartAsync(setup.Backend, policy, setup.DevicePoolBytes, setup.PinnedPoolBytes, parameters.SwapAmortization).ConfigureAwait(false);
        var clients = new List<GpuMuxClient>();
        var runners = new LlamaRunner?[parameters.Models];
        var refusals = new string?[parameters.Models];
        try
        {
            var reserve = await daemon.ConnectAsync("GpuMux.Bench trace-llama reserve").ConfigureAwait(false);
            clients.Add(reserve);
            await OpenRunnersAsync(daemon, reserve, setup, policy, runners, refusals, clients).ConfigureAwait(false);
            // A warm start, as a running service has: the most popular models that fit are resident.
            foreach (var runner in runners.Take(setup.ModelsFitting).OfType<LlamaRunner>())
            {
                await runner.GenerateAsync([0], new LlamaGeneration(1)).ConfigureAwait(false);
            }
            var swapsBefore = (await daemon.Engine.GetModelsAsync().ConfigureAwait(false)).Sum(m => m.SwapCount);

            var started = Stopwatch.GetTimestamp();
            var cutoff = started + Ticks(parameters.DurationSeconds + parameters.DrainSeconds);
            var live = new List<(LlamaTraceRequest Trace, LlamaRequest? Running, long Arrival)>(requests.Count);
            foreach (var request in requests)
            {
                var arrival = started + Ticks(request.ArrivalSeconds);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), arrival);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait).ConfigureAwait(false);
                }
                live.Add((request, runners[request.Model]?.Start(request.Prompt, new LlamaGeneration(request.OutputTokens)), arrival));
            }
            try
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), cutoff);
                await Task.WhenAll(live.Select(l => Settled(l.Running?.Completion))).WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The cut-off: what is not done by now counts as missed.
            }
            var elapsedSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var swaps = (await daemon.Engine.GetModelsAsync().ConfigureAwait(false)).Sum(m => m.SwapCount) - swapsBefore;
            // Disposing a runner ends its requests: their timestamps stop changing.
            foreach (var runner in runners.OfType<LlamaRunner>())
            {
                await runner.DisposeAsync().ConfigureAwait(false);
            }
            var outcomes = live.Select(l => Outcome(l.Trace, l.Running, l.Arrival)).ToList();
            return new LlamaPolicyRun(policy, rate, parameters, outcomes, refusals, swaps, elapsedSeconds);
        }
        finally
        {
            foreach (var runner in runners.OfType<LlamaRunner>())
            {
                await runner.DisposeAsync().ConfigureAwait(false);
            }
            foreach (var client in clients)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Opens a runner per model in popularity order. Until each opens, the room its buffers will
    /// take, and the room of every request's KV cache, is held by <paramref name="reserve"/>: under
    /// the Dedicated policy a model made resident at registration takes only room left for weights,
    /// and a refused model's service keeps its buffers' room, as it would hold its buffers.
    /// </summary>
    private static async Task OpenRunnersAsync(
        LlamaTraceDaemon daemon, GpuMuxClient reserve, LlamaTraceSetup setup, SchedulingPolicy policy, LlamaRunner?[] runners, string?[] refusals, List<GpuMuxClient> clients)
    {
        var parameters = setup.Parameters;
        var caches = await reserve.AllocateBufferAsync((ulong)parameters.Models * (ulong)parameters.MaxBatchRequests * setup.CacheBytes).ConfigureAwait(false);
        var held = new List<DeviceBuffer>();
        for (var rank = 0; rank < parameters.Models; rank++)
        {
            held.Add(await reserve.AllocateBufferAsync(setup.RunnerBytes).ConfigureAwait(false));
        }
        for (var rank = 0; rank < parameters.Models; rank++)
        {
            var client = await daemon.ConnectAsync($"GpuMux.Bench trace-llama m{rank:00}").ConfigureAwait(false);
            clients.Add(client);
            await ReleaseAsync(daemon, held[rank]).ConfigureAwait(false);
            try
            {
                runners[rank] = await LlamaRunner.OpenAsync(client, setup.ModelDirectories[rank], setup.RunnerOptions(rank)).ConfigureAwait(false);
            }
            catch (DeviceOutOfMemoryException e) when (policy == SchedulingPolicy.Dedicated)
            {
                refusals[rank] = e.Message;
                held[rank] = await reserve.AllocateBufferAsync(setup.RunnerBytes).ConfigureAwait(false);
            }
        }
        await ReleaseAsync(daemon, caches).ConfigureAwait(false);
    }

    /// <summary>Frees a held buffer and waits until the pool has its room back: the daemon returns a buffer's pages once its release has been through the engine, a moment after the reply.</summary>
    private static async Task ReleaseAsync(LlamaTraceDaemon daemon, DeviceBuffer buffer)
    {
        var free = (await daemon.Engine.GetStatusAsync().ConfigureAwait(false)).DevicePoolFreeBytes;
        var bytes = (buffer.Length + LlamaTraceSetup.PageBytes - 1) / LlamaTraceSetup.PageBytes * LlamaTraceSetup.PageBytes;
        await buffer.DisposeAsync().ConfigureAwait(false);
        var deadline = Stopwatch.GetTimestamp() + Ticks(10);
        while ((await daemon.Engine.GetStatusAsync().ConfigureAwait(false)).DevicePoolFreeBytes < free + bytes)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException($"the pool did not get a freed buffer's {bytes} bytes back within 10 s");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(5)).ConfigureAwait(false);
        }
    }

    private static LlamaRequestOutcome Outcome(LlamaTraceRequest trace, LlamaRequest? running, long arrival)
    {
        if (running is null)
        {
            return new LlamaRequestOutcome(trace, [], [], "refused");
        }
        var times = running.TokenTimestamps.Select(t => Stopwatch.GetElapsedTime(arrival, t).TotalMilliseconds).ToArray();
        var completion = running.Completion;
        return completion.IsCompletedSuccessfully
            ? new LlamaRequestOutcome(trace, times, completion.Result, null)
            : new LlamaRequestOutcome(trace, times, [], completion.Exception?.InnerException is ObjectDisposedException ? "cut off" : completion.Exception?.InnerException?.GetType().Name ?? "cut off");
    }

    private static async Task Settled(Task? task)
    {
        if (task is not null)
        {
            await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);
}
