using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Linux;

namespace GpuMux.Bench.Models;

/// <summary>
/// <c>GpuMux.Bench swap</c>: exit code 0 when every step and copy delivered the reference's
/// results, 1 when one did not or the GPU or the engine failed, 2 on a bad command line.
/// </summary>
internal static class SwapCommand
{
    // No synchronisation context in a console app: continuations run on the pool, and the
    // baselines, which hold the device's context on this thread, come before any await.
    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "swap", args, SwapOptions.Usage, SwapOptions.Parse, options => RunAsync(options).GetAwaiter().GetResult(),
        e => e is GpuException or EngineException or LinuxException or IOException or UnauthorizedAccessException or InvalidOperationException);

    private static async Task<int> RunAsync(SwapOptions options)
    {
        var environment = RunEnvironment.Capture();
        var selection = BenchCommand.SelectBackend(options.Backend);
        var backend = selection.Backend;
        var device = backend.Devices[0];
        Console.WriteLine($"backend: {backend.Description}");
        Console.WriteLine($"device:  {device.Name}, compute capability {device.ComputeCapability}, {device.TotalMemoryBytes >> 20} MiB, PCI {device.PciBusId}");

        var sizes = options.SizesMib ?? SwapOptions.DefaultSizesMib(backend.Kind);
        var geometries = sizes.Select(ModelGeometry.For).ToList();
        ModelGeometry? sweep = options.SweepChunksMib.Count > 0 ? ModelGeometry.For(SwapOptions.SweepSizeMib) : null;
        var baselines = SwapBenchmark.MeasureBaselines(backend, geometries.Select(g => g.Bytes).Concat(sweep is { } s ? [s.Bytes] : []), options.Repeats);

        var x = SyntheticModel.Input();
        var runs = new List<ModelRun>();
        var sweeps = new List<ModelRun>();
        foreach (var geometry in geometries)
        {
            using var a = Build("A", geometry, x);
            using var b = Build("B", geometry, x);
            Console.Error.WriteLine($"{geometry.SizeMib} MiB: {2 * options.Repeats} swap-ins, then {options.Repeats} cold and {options.Repeats} resident steps, in chunks of {options.ChunkMib} MiB");
            runs.Add(await SwapBenchmark.MeasureAsync(backend, a, b, x, (ulong)options.ChunkMib << 20, options.Repeats, withSteps: true).ConfigureAwait(false));
            if (geometry == sweep)
            {
                sweeps.AddRange(await SweepAsync(backend, options, a, b, x).ConfigureAwait(false));
            }
        }
        if (sweep is { } sweepGeometry && !geometries.Contains(sweepGeometry))
        {
            using var a = Build("A", sweepGeometry, x);
            using var b = Build("B", sweepGeometry, x);
            sweeps.AddRange(await SweepAsync(backend, options, a, b, x).ConfigureAwait(false));
        }

        var run = new SwapRun(environment, backend.Kind, backend.Description, selection.CudaUnavailableReason, device, options, sizes, baselines, runs, sweeps);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {SwapReport.WriteFile(run, directory)}");
        }
        Console.WriteLine();
        SwapReport.WriteTables(Console.Out, run);
        return run.AllVerified ? 0 : 1;
    }

    private static async Task<List<ModelRun>> SweepAsync(GpuBackend backend, SwapOptions options, SyntheticModel a, SyntheticModel b, float[] x)
    {
        var runs = new List<ModelRun>();
        foreach (var chunkMib in options.SweepChunksMib)
        {
            Console.Error.WriteLine($"sweep: {2 * options.Repeats} swap-ins of {a.Geometry.SizeMib} MiB in chunks of {chunkMib} MiB");
            runs.Add(await SwapBenchmark.MeasureAsync(backend, a, b, x, (ulong)chunkMib << 20, options.Repeats, withSteps: false).ConfigureAwait(false));
        }
        return runs;
    }

    private static SyntheticModel Build(string name, ModelGeometry geometry, float[] x)
    {
        Console.Error.WriteLine($"building model {name} of {geometry.SizeMib} MiB: {geometry.Layers} f16 layers of {geometry.Rows} x {ModelGeometry.Cols}");
        return SyntheticModel.Create($"{name}-{geometry.SizeMib}MiB", geometry, seed: (geometry.SizeMib * 2) + (name == "A" ? 0 : 1), x);
    }
}
