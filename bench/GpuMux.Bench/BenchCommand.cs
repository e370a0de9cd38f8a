using GpuMux.Gpu;
using GpuMux.Gpu.Sim;

namespace GpuMux.Bench;

/// <summary>What every benchmark command does around its measurement: help, parsing, the backend, failures.</summary>
internal static class BenchCommand
{
    /// <summary>
    /// Exit code 0 for help, 2 for a bad command line; otherwise <paramref name="run"/>'s, or 1 when
    /// it fails with one of the exceptions <paramref name="isFailure"/> accepts.
    /// </summary>
    public static int Run<TOptions>(
        string name,
        IReadOnlyList<string> args,
        string usage,
        Func<IReadOnlyList<string>, TOptions> parse,
        Func<TOptions, int> run,
        Func<Exception, bool> isFailure)
    {
        if (args.Any(arg => arg is "-h" or "--help"))
        {
            Console.WriteLine(usage);
            return 0;
        }

        TOptions options;
        try
        {
            options = parse(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{name}: {e.Message}");
            Console.Error.WriteLine(usage);
            return 2;
        }

        try
        {
            return run(options);
        }
        catch (Exception e) when (isFailure(e))
        {
            Console.Error.WriteLine($"{name}: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// The backend asked for, saying loudly when CUDA was wanted and the simulator runs instead,
    /// which then models <paramref name="simulatedDevice"/> (by default, the simulator's own).
    /// </summary>
    public static BackendSelection SelectBackend(BackendPreference preference, SimDeviceOptions? simulatedDevice = null)
    {
        var selection = GpuBackends.Select(preference, new GpuBackendOptions { Sim = simulatedDevice ?? new SimDeviceOptions() });
        if (selection.CudaUnavailableReason is { } reason)
        {
            Console.Error.WriteLine($"CUDA unavailable ({reason}): running on the Sim backend, so every figure is modelled, not measured");
        }

        return selection;
    }
}
