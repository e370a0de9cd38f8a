using System.Diagnostics;
using GpuMux.Robustness.Clients;

namespace GpuMux.Robustness.Scenarios;

internal sealed record CompletionOrderOptions
{
    public int Clients { get; init; } = 256;

    public int StepsPerClient { get; init; } = 10_000;

    /// <summary>Steps each client keeps in flight.</summary>
    public int Window { get; init; } = 8;
}

/// <summary>
/// Many clients, many steps each, every completion matched to its request: none lost, duplicated,
/// out of submission order within its session, failed or wrong.
/// </summary>
internal static class CompletionOrderScenario
{
    public const string Name = "completion-order";

    public static async Task<ScenarioResult> RunAsync(RunSettings settings, CompletionOrderOptions options, CancellationToken cancellationToken)
    {
        await using var run = await ScenarioRun.StartAsync(Name, settings, cancellationToken);
        var counts = run.Counts;
        var counters = new CompletionCounters(
            counts.Tally("steps submitted"),
            counts.Tally("completions"),
            counts.Failure("steps lost (no completion)"),
            counts.Failure("completions duplicated"),
            counts.Failure("frames matching no step"),
            counts.Failure("completions out of submission order"),
            counts.Failure("steps failed"),
            counts.Failure("wrong results"),
            counts.Failure("hangs (no completion within the bound)"),
            run.Notes);
        run.MarkBaseline();

        var elapsed = Stopwatch.StartNew();
        using (new Timer(_ => settings.Progress($"{Name}: {counters.Completed.Value} of {(long)options.Clients * options.StepsPerClient} steps completed"), null, 10_000, 10_000))
        {
            await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(client => Task.Run(async () =>
            {
                await using var connection = await RawConnection.ConnectAsync(run.Daemon.SocketPath, cancellationToken);
                var session = new OrderedSession(connection, client, options.StepsPerClient, options.Window, counters, new Random(settings.Seed + client), settings.HangBound, cancellationToken);
                await session.RunAsync();
            }, cancellationToken)));
        }

        run.Figure("steps per second", $"{counters.Completed.Value / Math.Max(elapsed.Elapsed.TotalSeconds, 0.001):F0}");
        return await run.FinishAsync(
            $"{options.Clients} clients, {options.StepsPerClient} steps each with {options.Window} in flight; each step fills a buffer with a value of its own and copies it to the region, and each completion is matched to its step",
            $"clients {options.Clients}; steps per client {options.StepsPerClient}; window {options.Window}; seed {settings.Seed}",
            cancellationToken);
    }
}
