using System.Runtime.CompilerServices;
using GpuMux.Robustness.Scenarios;

namespace GpuMux.Robustness;

/// <summary>Runs the chosen scenarios one after the other, each on a gpumuxd of its own.</summary>
internal static class RobustnessSuite
{
    public static async IAsyncEnumerable<ScenarioResult> RunAsync(RunSettings settings, SuiteOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var scenario in options.Scenarios)
        {
            switch (scenario)
            {
                case ScenarioKind.Fuzz:
                    foreach (var family in options.FuzzFamilies)
                    {
                        yield return await FuzzScenario.RunAsync(settings, options.Fuzz with { Families = [family] }, cancellationToken);
                    }

                    break;
                case ScenarioKind.KilledClients:
                    yield return await KilledClientsScenario.RunAsync(settings, options.Killed, cancellationToken);
                    break;
                case ScenarioKind.CompletionOrder:
                    yield return await CompletionOrderScenario.RunAsync(settings, options.Order, cancellationToken);
                    break;
                case ScenarioKind.Safetensors:
                    yield return await SafetensorsScenario.RunAsync(settings, options.Safetensors, cancellationToken);
                    break;
                case ScenarioKind.Reload:
                    yield return await ReloadScenario.RunAsync(settings, options.Reload, cancellationToken);
                    break;
                case ScenarioKind.Shutdown:
                    yield return await ShutdownScenario.RunAsync(settings, options.Shutdown, cancellationToken);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(options), scenario, "not a scenario");
            }
        }
    }
}
