using GpuMux.Bench.Scheduling;
using GpuMux.Client;
using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Bench.Llama;

/// <summary>
/// <c>GpuMux.Bench trace-llama</c>: exit code 0 when every completed request's tokens were right,
/// 1 when one was not or the daemon or the GPU failed, 2 on a bad command line.
/// </summary>
internal static class LlamaTraceCommand
{
    /// <summary>The largest shape whose CPU reference the host decodes every request of in reasonable time.</summary>
    private const long ReferenceBytesLimit = 1L << 30;

    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        LlamaTraceReport.Command, args, LlamaTraceOptions.Usage, LlamaTraceOptions.Parse, options => RunAsync(options).GetAwaiter().GetResult(),
        e => e is GpuMuxException or GpuException or EngineException or IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException);

    private static async Task<int> RunAsync(LlamaTraceOptions options)
    {
        var run = await MeasureAsync(options).ConfigureAwait(false);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {LlamaTraceReport.WriteFile(run, directory)}");
        }
        Console.WriteLine();
        LlamaTraceReport.WriteTables(Console.Out, run);
        return run.Check.Wrong == 0 ? 0 : 1;
    }

    /// <summary>Writes the models, sizes the daemon's pools and replays the trace under each policy at each rate.</summary>
    public static async Task<LlamaTraceRun> MeasureAsync(LlamaTraceOptions options)
    {
        var environment = RunEnvironment.Capture();
        var parameters = options.Parameters;
        var selection = BenchCommand.SelectBackend(options.Backend);
        var device = selection.Backend.Devices[0];
        Console.WriteLine($"backend: {selection.Backend.Description}");
        var modelsDirectory = options.ModelsDirectory ?? Directory.CreateTempSubdirectory("gmx-trace-llama-models-").FullName;
        try
        {
            Console.Error.WriteLine($"writing {parameters.Models} {parameters.Shape} models of {parameters.ModelBytes / 1e6:F1} MB into {modelsDirectory}");
            var directories = Enumerable.Range(0, parameters.Models).Select(rank => Path.Combine(modelsDirectory, $"m{rank:00}-{parameters.Shape}")).ToList();
            for (var rank = 0; rank < directories.Count; rank++)
            {
                if (!File.Exists(Path.Combine(directories[rank], "config.json")))
                {
                    LlamaCheckpointWriter.Write(parameters.Config, (ulong)rank, directories[rank]);
                }
            }
            var backend = selection.Backend.Kind == GpuBackendKind.Sim ? BackendPreference.Sim : BackendPreference.Cuda;
            var setup = await LlamaTraceSetup.MeasureAsync(backend, parameters, directories).ConfigureAwait(false);
            var popularity = new ZipfPopularity(parameters.Models, parameters.ZipfExponent);
            var check = new LlamaTokenCheck(directories, useReference: parameters.ModelBytes <= ReferenceBytesLimit);
            var runs = new List<LlamaPolicyRun>();
            foreach (var rate in parameters.Rates)
            {
                var requests = LlamaTraceGenerator.Generate(parameters, popularity, rate);
                foreach (var policy in TraceRun.Policies)
                {
                    Console.Error.Write($"{policy.ToString().ToLowerInvariant(),-9} at {rate,5:0.##} requests/s: {requests.Count} requests ... ");
                    var run = await LlamaTraceReplay.RunAsync(setup, policy, rate, requests).ConfigureAwait(false);
                    check.Check(run);
                    Console.Error.WriteLine($"{run.Attainment:F3} within the SLOs, {run.CompletedRequests} completed, {run.Swaps} swaps, {run.ElapsedSeconds:F1} s");
                    runs.Add(run);
                }
            }
            var wake = selection.Backend.Kind == GpuBackendKind.Cuda && options.Wake
                ? await LlamaWake.MeasureAsync(selection.Backend, modelsDirectory).ConfigureAwait(false)
                : null;
            return new LlamaTraceRun(environment, selection.Backend.Kind, selection.Backend.Description, selection.CudaUnavailableReason, device, setup, popularity, runs, check, wake);
        }
        finally
        {
            if (options.ModelsDirectory is null)
            {
                Directory.Delete(modelsDirectory, recursive: true);
            }
        }
    }
}
