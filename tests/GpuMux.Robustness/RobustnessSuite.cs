using System.Diagnostics;
using System.Runtime.CompilerServices;
using GpuMux.Robustness.Counting;
using GpuMux.Robustness.Scenarios;

namespace GpuMux.Robustness;

/// <summary>Runs the chosen scenarios one after the other, each on a gpumuxd of its own.</summary>
internal static class RobustnessSuite
{
    public static async IAsyncEnumerable<ScenarioResult> RunAsync(RunSettings settings, SuiteOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var (name, run) in Scenarios(settings, options, cancellationToken))
        {
            yield return await RunOneAsync(name, run, cancellationToken);
        }
    }

    private static IEnumerable<(string Name, Func<Task<ScenarioResult>> Run)> Scenarios(RunSettings settings, SuiteOptions options, CancellationToken cancellationToken)
    {
        foreach (var scenario in options.Scenarios)
        {
            switch (scenario)
            {
                case ScenarioKind.Fuzz:
                    foreach (var family in options.FuzzFamilies)
                    {
                        yield return ($"{FuzzScenario.Name}-{family.ToString().ToLowerInvariant()}", () => FuzzScenario.RunAsync(settings, options.Fuzz with { Families = [family] }, cancellationToken));
                    }

                    break;
                case ScenarioKind.KilledClients:
                    yield return (KilledClientsScenario.Name, () => KilledClientsScenario.RunAsync(settings, options.Killed, cancellationToken));
                    break;
                case ScenarioKind.CompletionOrder:
                    yield return (CompletionOrderScenario.Name, () => CompletionOrderScenario.RunAsync(settings, options.Order, cancellationToken));
                    break;
                case ScenarioKind.Safetensors:
                    yield return (SafetensorsScenario.Name, () => SafetensorsScenario.RunAsync(settings, options.Safetensors, cancellationToken));
                    break;
                case ScenarioKind.Reload:
                    yield return (ReloadScenario.Name, () => ReloadScenario.RunAsync(settings, options.Reload, cancellationToken));
                    break;
                case ScenarioKind.Shutdown:
                    yield return (ShutdownScenario.Name, () => ShutdownScenario.RunAsync(settings, options.Shutdown, cancellationToken));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(options), scenario, "not a scenario");
            }
        }
    }

    /// <summary>
    /// A scenario that throws is a finding too (the daemon answered what it never should, or
    /// the suite has a bug): it is reported as a failure with the exception, and the run goes on.
    /// </summary>
    private static async Task<ScenarioResult> RunOneAsync(string name, Func<Task<ScenarioResult>> run, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        try
        {
            return await run();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var counts = new Counts();
            counts.Failure("the scenario could not finish").Set(1);
            var notes = new Notes();
            notes.Add("the scenario could not finish", e.ToString());
            return new ScenarioResult(name, "a scenario that stopped with an exception", "", counts.All, notes.Snapshot(), [], null, null, elapsed.Elapsed);
        }
    }
}
