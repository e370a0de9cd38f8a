using GpuMux.Gpu;
using GpuMux.Gpu.Sim;
using GpuMux.Linux;

namespace GpuMux.Bench.Memory;

/// <summary><c>GpuMux.Bench pool</c>: exit code 0 when every swap-in mapped, 1 when the GPU or the pool failed, 2 on a bad command line.</summary>
internal static class PoolCommand
{
    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "pool", args, PoolOptions.Usage, PoolOptions.Parse, Run,
        e => e is GpuException or LinuxException or IOException or UnauthorizedAccessException or InvalidOperationException);

    private static int Run(PoolOptions options)
    {
        var environment = RunEnvironment.Capture();
        // The simulated device is given room for the pool and a little more, as a GPU would have.
        var selection = BenchCommand.SelectBackend(options.Backend, new SimDeviceOptions { CapacityBytes = options.PoolBytes + (1UL << 30) });
        var backend = selection.Backend;
        using var context = backend.CreateContext(0);
        var device = context.Device;
        Console.WriteLine($"backend: {backend.Description}");
        Console.WriteLine($"device:  {device.Name}, {device.TotalMemoryBytes >> 20} MiB, allocation granularity {context.AllocationGranularity >> 20} MiB");

        var creations = new List<PoolCreation>();
        var measurements = new List<PoolMeasurement>();
        foreach (var pageMib in options.PageMib)
        {
            Console.Error.WriteLine($"pages of {pageMib} MiB: a pool of {options.PoolBytes >> 30} GiB, {options.Repeats} swap-ins and evictions of each model");
            var (creation, measured) = PoolBenchmark.Measure(context, (ulong)pageMib << 20, options);
            creations.Add(creation);
            measurements.AddRange(measured);
        }

        var run = new PoolRun(environment, backend.Kind, backend.Description, selection.CudaUnavailableReason, device, options, creations, measurements);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {PoolReport.WriteFile(run, directory)}");
        }
        Console.WriteLine();
        PoolReport.WriteTable(Console.Out, run);
        return 0;
    }
}
