using GpuMux.Gpu;

namespace GpuMux.Bench.Copies;

/// <summary><c>GpuMux.Bench bandwidth</c>: exit code 0 when every copy delivered its data, 1 when one did not or the GPU failed, 2 on a bad command line.</summary>
internal static class BandwidthCommand
{
    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "bandwidth", args, BandwidthOptions.Usage, BandwidthOptions.Parse, Run,
        e => e is GpuException or IOException or UnauthorizedAccessException);

    private static int Run(BandwidthOptions options)
    {
        var environment = RunEnvironment.Capture();
        var selection = BenchCommand.SelectBackend(options.Backend);
        var backend = selection.Backend;

        // The context belongs to this thread; the probe and everything it creates stay on it.
        using var context = backend.CreateContext(0);
        var device = context.Device;
        Console.WriteLine($"backend: {backend.Description}");
        Console.WriteLine($"device:  {device.Name}, compute capability {device.ComputeCapability}, {device.TotalMemoryBytes >> 20} MiB, PCI {device.PciBusId}");

        var measurements = new List<CopyMeasurement>();
        using (var probe = new CopyBandwidthProbe(context, options.Bytes))
        {
            for (var i = 0; i < CopyCase.All.Count; i++)
            {
                var copy = CopyCase.All[i];
                Console.Error.WriteLine($"measuring {copy}: {options.Warmup} warm-up and {options.Repeats} timed copies of {options.SizeMib} MiB");
                measurements.Add(probe.Measure(copy, options.Warmup, options.Repeats, seed: i + 1));
            }
        }

        var run = new BandwidthRun(environment, backend.Kind, backend.Description, selection.CudaUnavailableReason, device, options, measurements);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {BandwidthReport.WriteFile(run, directory)}");
        }
        foreach (var wrong in measurements.Where(m => !m.Verified))
        {
            Console.Error.WriteLine($"FAILED: {wrong.Case}: the data did not arrive intact ({wrong.WrongChunks} of {wrong.ExpectedChecksums.Count} chunks of {HostBuffer.ChunkBytes >> 20} MiB differ)");
        }
        Console.WriteLine();
        BandwidthReport.WriteTable(Console.Out, run);
        return run.AllVerified ? 0 : 1;
    }
}
