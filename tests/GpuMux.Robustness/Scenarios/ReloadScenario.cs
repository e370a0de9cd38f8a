using System.Diagnostics;
using System.Globalization;
using GpuMux.Client;
using GpuMux.Robustness.Clients;

namespace GpuMux.Robustness.Scenarios;

internal sealed record ReloadOptions
{
    public int Signals { get; init; } = 1000;

    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(10);

    public int HonestClients { get; init; } = 2;
}

/// <summary>
/// A storm of SIGHUPs, each after the tenant limits in the configuration file changed (some to
/// values the daemon must refuse), while honest clients verify every step: no death, no error,
/// and the last valid limits in force at the end.
/// </summary>
internal static class ReloadScenario
{
    public const string Name = "reload";

    /// <summary>The lease limit of the last file: no file of the storm has it.</summary>
    private const int FinalMaxLeases = 777;

    public static async Task<ScenarioResult> RunAsync(RunSettings settings, ReloadOptions options, CancellationToken cancellationToken)
    {
        var setup = settings.DaemonFor(Name);
        Directory.CreateDirectory(setup.Directory);
        WriteConfiguration(setup.ConfigurationFile, 1, 1.0);
        await using var run = await ScenarioRun.StartAsync(Name, settings, cancellationToken);
        var honest = new HonestCounters(run.Counts, run.Notes);
        var signals = run.Counts.Tally("SIGHUPs sent");
        var invalid = run.Counts.Tally("of them after a file the daemon must refuse");
        var notApplied = run.Counts.Failure("last limits not in force after the storm");
        run.MarkBaseline();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clients = Enumerable.Range(0, options.HonestClients)
            .Select(i => Task.Run(() => new HonestClient(run.Daemon, honest, settings.Seed + i, settings.HangBound).RunAsync(stop.Token), CancellationToken.None))
            .ToArray();
        var random = new Random(settings.Seed);
        settings.Progress($"{Name}: {options.Signals} SIGHUPs");
        for (var i = 0; i < options.Signals && !run.Daemon.GaveUp; i++)
        {
            await run.Daemon.WaitUntilUpAsync(cancellationToken);
            var refused = random.Next(10) == 0;
            WriteConfiguration(setup.ConfigurationFile, refused ? -1 : random.Next(1, 17), random.Next(1, 100) / 10.0);
            invalid.Add(refused ? 1 : 0);
            run.Daemon.Current.Hangup();
            signals.Add();
            await Task.Delay(options.Interval, cancellationToken);
        }

        WriteConfiguration(setup.ConfigurationFile, FinalMaxLeases, 1.0);
        run.Daemon.Current.Hangup();
        signals.Add();
        notApplied.Set(await LimitsAppliedAsync(run, settings.HangBound, cancellationToken) ? 0 : 1);

        await stop.CancelAsync();
        await Task.WhenAll(clients);
        run.Figure("honest step round trip", honest.StepLatency.Summarise());
        run.Figure("honest status round trip", honest.StatusLatency.Summarise());
        return await run.FinishAsync(
            $"{options.Signals} SIGHUPs {options.Interval.TotalMilliseconds:0} ms apart, each after the Tenants section of the configuration file changed (one in ten to a value the daemon must refuse), while {options.HonestClients} honest clients verify every step; then the last valid limits must be in force",
            $"signals {options.Signals}; interval {options.Interval.TotalMilliseconds:0} ms; honest clients {options.HonestClients}; seed {settings.Seed}",
            cancellationToken);
    }

    /// <summary>Replaces the file whole, as configuration tools do, so that no reload reads it half written.</summary>
    private static void WriteConfiguration(string path, int maxLeases, double weight)
    {
        var next = path + ".next";
        File.WriteAllText(next, string.Create(CultureInfo.InvariantCulture, $$"""{ "Tenants": { "Default": { "MaxLeases": {{maxLeases}}, "Weight": {{weight}} } } }"""));
        File.Move(next, path, overwrite: true);
    }

    private static async Task<bool> LimitsAppliedAsync(ScenarioRun run, TimeSpan bound, CancellationToken cancellationToken)
    {
        if (!await run.Daemon.WaitUntilUpAsync(cancellationToken))
        {
            return false;
        }

        await using var observer = await GpuMuxClient.ConnectAsync(new() { Host = run.Daemon.SocketPath, ClientName = "observer" }, cancellationToken);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < bound)
        {
            var tenants = await observer.GetTenantsAsync(cancellationToken);
            if (tenants.Tenants.Count > 0 && tenants.Tenants.All(tenant => tenant.MaxLeases == FinalMaxLeases))
            {
                return true;
            }

            await Task.Delay(20, cancellationToken);
        }

        return false;
    }
}
