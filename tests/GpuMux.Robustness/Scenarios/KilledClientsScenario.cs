using System.Diagnostics;
using System.Net.Sockets;
using GpuMux.Client;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Daemon;
using GpuMux.Robustness.Fuzzing;

namespace GpuMux.Robustness.Scenarios;

internal sealed record KilledClientsOptions
{
    public int Clients { get; init; } = 1000;

    /// <summary>Clients alive at once.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>The moments the clients are killed at, each as likely.</summary>
    public IReadOnlyList<KillPoint> KillPoints { get; init; } = Enum.GetValues<KillPoint>();

    /// <summary>
    /// What the daemon may hold beyond its baseline once every killed client is gone: slack for
    /// a runtime that keeps a few more threads and mappings after a burst, far below one per client.
    /// </summary>
    public ResourceMargin Margin { get; init; } = new(RssBytes: 64L << 20, Descriptors: 16, Threads: 16, Mappings: 64);
}

internal readonly record struct ResourceMargin(long RssBytes, int Descriptors, int Threads, int Mappings);

/// <summary>
/// Clients killed at random moments (before and during the handshake, mid-frame, holding regions,
/// buffers, leases, modules and models, with steps in flight, while a model stages). Afterwards the
/// daemon's sessions, buffers, leases, models and pools must be exactly as before, and its
/// descriptors, threads, mappings and memory back within a stated margin.
/// </summary>
internal static class KilledClientsScenario
{
    public const string Name = "killed-clients";

    /// <summary>
    /// Clients killed before the baseline is taken, at least, so that it includes a warmed-up
    /// runtime. A fifth of the clients, where that is more: the memory the daemon takes once and
    /// keeps (the pages of the pinned pool that models, 16 at once, have been staged in; the GC's
    /// heap) reaches its high-water mark under the same load, so what grows after it is a leak.
    /// </summary>
    private const int MinWarmUpClients = 40;

    public static async Task<ScenarioResult> RunAsync(RunSettings settings, KilledClientsOptions options, CancellationToken cancellationToken)
    {
        await using var run = await ScenarioRun.StartAsync(Name, settings, cancellationToken);
        var killed = run.Counts.Tally("clients killed");
        var refused = run.Counts.Tally("set-up requests refused (the killed clients' own)");
        var hangs = run.Counts.Failure("set-up requests unanswered (hangs)");
        var notSettled = run.Counts.Failure("daemon state not back to baseline (sum of the excesses below)");
        var excesses = new[] { "sessions", "buffer bytes", "leases", "models", "device pool bytes not returned", "pinned pool bytes not returned" }
            .ToDictionary(name => name, name => run.Counts.Failure($"left over: {name}"));
        var margin = options.Margin;
        var overDescriptors = run.Counts.Failure($"descriptors over baseline + {margin.Descriptors}");
        var overThreads = run.Counts.Failure($"threads over baseline + {margin.Threads}");
        var overMappings = run.Counts.Failure($"mappings over baseline + {margin.Mappings}");
        var overRss = run.Counts.Failure($"RSS MiB over baseline + {margin.RssBytes >> 20}");
        var observerErrors = run.Counts.Failure("the observer's status requests failed");
        var byPoint = options.KillPoints.ToDictionary(point => point, point => run.Counts.Tally($"killed: {point}"));
        var largeModel = FuzzAttachments.LargeModel();

        var random = new Random(settings.Seed);
        var warmUpClients = Math.Max(MinWarmUpClients, options.Clients / 5);
        await using (var observer = await GpuMuxClient.ConnectAsync(new() { Host = run.Daemon.SocketPath, ClientName = "observer" }, cancellationToken))
        {
            await KillAsync(warmUpClients, null);
            await SettleAsync(observer, await ReadStateAsync(observer) with { Sessions = 1 });
            var baseline = await ReadStateAsync(observer);
            run.MarkBaseline();

            settings.Progress($"{Name}: killing {options.Clients} clients");
            await KillAsync(options.Clients, byPoint);

            settings.Progress($"{Name}: waiting for the daemon to give everything back");
            var after = await SettleAsync(observer, baseline);
            foreach (var (name, excess) in baseline.Excess(after))
            {
                excesses[name].Set(Math.Max(0, excess));
            }
        }

        notSettled.Set(excesses.Values.Sum(counter => counter.Value));
        if (run.Before is { } b && await SettleResourcesAsync(run.Daemon.Current, b, margin) is { } a)
        {
            overDescriptors.Set(Math.Max(0, a.Descriptors - b.Descriptors - margin.Descriptors));
            overThreads.Set(Math.Max(0, a.Threads - b.Threads - margin.Threads));
            overMappings.Set(Math.Max(0, a.Mappings - b.Mappings - margin.Mappings));
            overRss.Set(Math.Max(0, (a.RssBytes - b.RssBytes - margin.RssBytes) >> 20));
        }

        return await run.FinishAsync(
            $"{options.Clients} clients killed at random moments, {options.Concurrency} at a time, after {warmUpClients} killed to warm the daemon up; then its sessions, buffers, leases, models and pools must be as before, and its descriptors, threads, mappings and RSS within the margins",
            $"clients {options.Clients}; concurrency {options.Concurrency}; killed {string.Join(", ", options.KillPoints)}; margins: descriptors {margin.Descriptors}, threads {margin.Threads}, mappings {margin.Mappings}, RSS {margin.RssBytes >> 20} MiB; seed {settings.Seed}",
            cancellationToken);

        async Task KillAsync(int clients, Dictionary<KillPoint, Counting.Counter>? counted)
        {
            var points = options.KillPoints;
            var next = 0;
            var workers = Enumerable.Range(0, options.Concurrency).Select(async worker =>
            {
                var local = new Random(random.Next() + worker);
                while (Interlocked.Increment(ref next) <= clients)
                {
                    var point = points[local.Next(points.Count)];
                    RawConnection connection;
                    try
                    {
                        connection = await RawConnection.ConnectAsync(run.Daemon.SocketPath, cancellationToken);
                    }
                    catch (SocketException)
                    {
                        // The daemon is down (a death, counted) or refusing: this client never lived.
                        await run.Daemon.WaitUntilUpAsync(cancellationToken);
                        continue;
                    }

                    await using (connection)
                    {
                        try
                        {
                            var refusals = await new DoomedClient(connection, local, settings.HangBound, cancellationToken).LiveAndDieAsync(point, largeModel);
                            if (counted is not null)
                            {
                                refused.Add(refusals);
                            }
                        }
                        catch (TimeoutException e)
                        {
                            hangs.Add();
                            run.Notes.Add("set-up request unanswered", $"{point}: {e.Message}");
                        }
                    }

                    if (counted is not null)
                    {
                        killed.Add();
                        counted[point].Add();
                    }
                }
            });
            await Task.WhenAll(workers);
        }

        // Polls until the daemon's state is back to the baseline, up to the hang bound; returns the last state read.
        async Task<DaemonState> SettleAsync(GpuMuxClient observer, DaemonState target)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var state = await ReadStateAsync(observer);
                if (target.Excess(state).All(pair => pair.Excess <= 0) || waited.Elapsed > settings.HangBound)
                {
                    return state;
                }

                await Task.Delay(20, cancellationToken);
            }
        }

        // The observer's requests are valid: each one that fails is counted, and asked again.
        async Task<DaemonState> ReadStateAsync(GpuMuxClient observer)
        {
            while (true)
            {
                try
                {
                    return await DaemonState.ReadAsync(observer, cancellationToken).WaitAsync(settings.HangBound, cancellationToken);
                }
                catch (GpuMuxException e)
                {
                    observerErrors.Add();
                    run.Notes.Add("observer request failed", $"{e.Code}: {e.Message}");
                    await Task.Delay(20, cancellationToken);
                }
            }
        }

        // Resources are given back a little after the state says so (a closing socket, a thread leaving the pool).
        async Task<ResourceSample?> SettleResourcesAsync(DaemonProcess daemon, ResourceSample baseline, ResourceMargin slack)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var sample = daemon.Sample();
                if (sample is not { } s
                    || (s.Descriptors <= baseline.Descriptors + slack.Descriptors && s.Threads <= baseline.Threads + slack.Threads
                        && s.Mappings <= baseline.Mappings + slack.Mappings && s.RssBytes <= baseline.RssBytes + slack.RssBytes)
                    || waited.Elapsed > settings.HangBound)
                {
                    return sample;
                }

                await Task.Delay(100, cancellationToken);
            }
        }
    }
}
