using GpuMux.Robustness.Safetensors;

namespace GpuMux.Robustness.Scenarios;

internal sealed record SafetensorsOptions
{
    /// <summary>Files registered with the engine in this process.</summary>
    public int Files { get; init; } = 100_000;

    /// <summary>Files registered through the daemon, with every accepted valid file's tensors read back on the device.</summary>
    public int DaemonFiles { get; init; } = 300;
}

/// <summary>
/// Mutated safetensors headers registered as models: invalid ones refused with InvalidModel, valid
/// ones accepted and described (and, through the daemon, holding) exactly what the file holds.
/// </summary>
internal static class SafetensorsScenario
{
    public const string Name = "safetensors";

    public static async Task<ScenarioResult> RunAsync(RunSettings settings, SafetensorsOptions options, CancellationToken cancellationToken)
    {
        await using var run = await ScenarioRun.StartAsync(Name, settings, cancellationToken);
        var verdicts = Enum.GetValues<HeaderVerdict>().ToDictionary(verdict => verdict, verdict => run.Counts.Tally($"files made {verdict.ToString().ToLowerInvariant()}"));
        var engine = new HeaderJudge(run.Counts, run.Notes, "engine");
        var daemon = new HeaderJudge(run.Counts, run.Notes, "daemon");
        var tensorsChecked = run.Counts.Tally("daemon: tensors read back on the device");
        var wrongTensors = run.Counts.Failure("daemon: tensors whose bytes on the device differ from the file's");
        run.MarkBaseline();

        var cases = new SafetensorsCases(settings.Seed);
        await using (var registrar = await EngineRegistrar.StartAsync(cancellationToken))
        {
            settings.Progress($"{Name}: {options.Files} files through the engine");
            for (var i = 0; i < options.Files; i++)
            {
                var file = cases.Next();
                verdicts[file.Verdict].Add();
                engine.Judge(file, await registrar.RegisterAsync(file, cancellationToken));
            }
        }

        settings.Progress($"{Name}: {options.DaemonFiles} files through the daemon");
        await using (var registrar = await DaemonRegistrar.ConnectAsync(run.Daemon.SocketPath, cancellationToken))
        {
            for (var i = 0; i < options.DaemonFiles; i++)
            {
                var file = cases.Next();
                verdicts[file.Verdict].Add();
                var (outcome, wrong) = await registrar.RegisterAsync(file, cancellationToken).WaitAsync(settings.HangBound, cancellationToken);
                daemon.Judge(file, outcome);
                wrongTensors.Add(wrong.Count);
                foreach (var tensor in wrong)
                {
                    run.Notes.Add("tensor bytes wrong on the device", $"'{tensor}' of a {file.Mutation} file");
                }
            }

            tensorsChecked.Set(registrar.TensorsChecked);
        }

        return await run.FinishAsync(
            $"{options.Files} safetensors files registered with the engine in this process and {options.DaemonFiles} through the daemon: made valid, made invalid by one fault, or mutated at random",
            $"files {options.Files}; through the daemon {options.DaemonFiles}; seed {settings.Seed}",
            cancellationToken);
    }
}
