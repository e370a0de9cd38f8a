using GpuMux.Engine;
using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

/// <summary><c>GpuMux.Bench interactive</c>: exit code 0 when every case ran, 1 when the GPU or the engine failed, 2 on a bad command line.</summary>
internal static class InteractiveCommand
{
    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "interactive", args, InteractiveOptions.Usage, InteractiveOptions.Parse, options => RunAsync(options).GetAwaiter().GetResult(),
        e => e is GpuException or EngineException or IOException or UnauthorizedAccessException);

    private static async Task<int> RunAsync(InteractiveOptions options)
    {
        var environment = RunEnvironment.Capture();
        var selection = BenchCommand.SelectBackend(options.Backend);
        var backend = selection.Backend;
        var device = backend.Devices[0];
        Console.WriteLine($"backend: {backend.Description}");
        Console.WriteLine($"device:  {device.Name}, compute capability {device.ComputeCapability}, {device.TotalMemoryBytes >> 20} MiB, PCI {device.PciBusId}");

        var cases = new List<InteractiveCaseRun>();
        foreach (var @case in InteractiveCase.All)
        {
            Console.Error.WriteLine(@case.BatchClass is { } batch
                ? $"{@case.Name}: {options.Steps} {@case.InteractiveClass} steps beside {options.BatchInFlight} {batch} steps in flight"
                : $"{@case.Name}: {options.Steps} {@case.InteractiveClass} steps on an idle device");
            cases.Add(await InteractiveBenchmark.MeasureAsync(backend, options, @case).ConfigureAwait(false));
        }

        var run = new InteractiveRun(environment, backend.Kind, backend.Description, selection.CudaUnavailableReason, device, options, cases);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {InteractiveReport.WriteFile(run, directory)}");
        }
        Console.WriteLine();
        InteractiveReport.WriteTables(Console.Out, run);
        return 0;
    }
}
