using GpuMux.Robustness;

namespace GpuMux.Bench.Robustness;

/// <summary>
/// <c>GpuMux.Bench robustness</c>: exit code 0 when every failure count is 0, 3 when one is not,
/// 1 when the suite could not run, 2 on a bad command line.
/// </summary>
internal static class RobustnessCommand
{
    private const int FailuresFound = 3;

    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "robustness", args, RobustnessOptions.Usage, RobustnessOptions.Parse, options => RunAsync(options).GetAwaiter().GetResult(),
        e => e is IOException or InvalidOperationException or TimeoutException or UnauthorizedAccessException);

    private static async Task<int> RunAsync(RobustnessOptions options)
    {
        var environment = RunEnvironment.Capture();
        var work = Directory.CreateTempSubdirectory("gpumux-robustness-");
        var settings = new RunSettings
        {
            WorkDirectory = work.FullName,
            Seed = options.Seed,
            HangBound = options.HangBound,
            DaemonDll = options.DaemonDll ?? GpuMux.Robustness.Daemon.DaemonSetup.DefaultDaemonDll,
            Progress = line => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"),
        };
        var results = new List<ScenarioResult>();
        try
        {
            await foreach (var result in RobustnessSuite.RunAsync(settings, options.Suite, CancellationToken.None))
            {
                results.Add(result);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }

        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {RobustnessReport.WriteFile(environment, options, settings.DaemonDll, results, directory)}");
        }

        Console.WriteLine();
        RobustnessReport.WriteSummary(Console.Out, results);
        return results.Any(result => result.Failures.Count > 0) ? FailuresFound : 0;
    }
}
