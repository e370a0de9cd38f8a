using GpuMux.Bench.Models;
using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;
using GpuMux.Linux;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// <c>GpuMux.Bench trace</c>: exit code 0 when every completed step delivered the reference's
/// results and none failed, 1 when one did not or the GPU or the engine failed, 2 on a bad command line.
/// </summary>
internal static class TraceCommand
{
    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "trace", args, TraceOptions.Usage, TraceOptions.Parse, options => RunAsync(options).GetAwaiter().GetResult(),
        e => e is GpuException or EngineException or LinuxException or IOException or UnauthorizedAccessException or InvalidOperationException);

    private static async Task<int> RunAsync(TraceOptions options)
    {
        var environment = RunEnvironment.Capture();
        var parameters = options.Parameters;
        var selection = BenchCommand.SelectBackend(options.Backend, new SimDeviceOptions { PinnedCopyBytesPerSecond = parameters.SimCopyGigabytesPerSecond * 1e9 });
        var backend = selection.Backend;
        var device = backend.Devices[0];
        Console.WriteLine($"backend: {backend.Description}");
        Console.WriteLine($"device:  {device.Name}, compute capability {device.ComputeCapability}, {device.TotalMemoryBytes >> 20} MiB, PCI {device.PciBusId}");

        var x = SyntheticModel.Input();
        var geometry = ModelGeometry.For(parameters.ModelMib);
        var popularity = new ZipfPopularity(parameters.Models, parameters.ZipfExponent);
        var models = new List<SyntheticModel>();
        var runs = new List<PolicyRun>();
        try
        {
            Console.Error.WriteLine($"building {parameters.Models} models of {parameters.ModelMib} MiB: {geometry.Layers} f16 layers of {geometry.Rows} x {ModelGeometry.Cols} each");
            for (var rank = 0; rank < parameters.Models; rank++)
            {
                models.Add(SyntheticModel.Create($"m{rank:00}-{parameters.ModelMib}MiB", geometry, seed: rank, x));
            }
            foreach (var rate in parameters.Rates)
            {
                var requests = TraceGenerator.Generate(parameters, popularity, rate);
                foreach (var policy in TraceRun.Policies)
                {
                    Console.Error.Write($"{policy.ToString().ToLowerInvariant(),-9} at {rate,5:0.##} requests/s: {requests.Count} requests, {requests.Sum(r => r.Steps)} steps ... ");
                    var run = await TraceReplay.RunAsync(backend, parameters, policy, rate, models, requests, x).ConfigureAwait(false);
                    Console.Error.WriteLine($"{run.Attainment:F4} on time, {run.GapAttainment:F4} within the gap, {run.MeanBatch:F2} per step, {run.Swaps} swaps, {run.ElapsedSeconds:F1} s");
                    runs.Add(run);
                }
            }
        }
        finally
        {
            foreach (var model in models)
            {
                model.Dispose();
            }
        }

        var traceRun = new TraceRun(environment, backend.Kind, backend.Description, selection.CudaUnavailableReason, device, parameters, popularity, runs);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {TraceReport.WriteFile(traceRun, directory)}");
        }
        Console.WriteLine();
        TraceReport.WriteTables(Console.Out, traceRun);
        return traceRun.AllVerified && !traceRun.AnyFailures ? 0 : 1;
    }
}
