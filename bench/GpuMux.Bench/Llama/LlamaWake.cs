using System.Diagnostics;
using GpuMux.Bench.Copies;
using GpuMux.Client.Llama;
using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;
using GpuMux.Llama;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Bench.Llama;

/// <summary>
/// How long a request to an 8B model that is registered but not resident waits for its first
/// token, beside the PCIe floor: the model's bytes at the pinned host-to-device rate measured on
/// the same GPU just before. A GPU-only figure: the Sim would report its own model of the copy.
/// </summary>
internal static class LlamaWake
{
    public const string Shape = "8b";

    private const ulong ProbeBytes = 256UL << 20;

    /// <summary>Writes the 8B checkpoint into <paramref name="modelsDirectory"/> unless it is there, measures the copy rate, then the wake on a daemon of its own.</summary>
    public static async Task<LlamaWakeResult> MeasureAsync(GpuBackend backend, string modelsDirectory)
    {
        var config = LlamaShapes.Find(Shape)!;
        var directory = Path.Combine(modelsDirectory, $"wake-{Shape}");
        if (!File.Exists(Path.Combine(directory, "config.json")))
        {
            Console.Error.WriteLine($"writing the {Shape} model into {directory}");
            LlamaCheckpointWriter.Write(config, seed: 0, directory);
        }
        var bytes = (ulong)(LlamaTensor.All(config).Sum(tensor => tensor.Elements) * config.DType.ElementSize);

        double gigabytesPerSecond;
        // Measured before the daemon starts, so that nothing else uses the device meanwhile.
        using (var context = backend.CreateContext(0))
        using (var probe = new CopyBandwidthProbe(context, ProbeBytes))
        {
            gigabytesPerSecond = probe.Measure(new CopyCase(CopyDirection.HostToDevice, HostMemoryKind.Pinned), warmup: 2, repeats: 10, seed: 1).Rates.Median;
        }

        await using var daemon = await LlamaTraceDaemon.StartAsync(BackendPreference.Cuda, SchedulingPolicy.Step, bytes + (4UL << 30), bytes + (1UL << 30), swapAmortization: 1).ConfigureAwait(false);
        await using var client = await daemon.ConnectAsync("GpuMux.Bench trace-llama wake").ConfigureAwait(false);
        await using var runner = await LlamaRunner.OpenAsync(client, directory, new LlamaRunnerOptions { MaxBatchRequests = 1, MaxBatchTokens = 8 }).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        var request = runner.Start([1], new LlamaGeneration(1));
        await request.Completion.ConfigureAwait(false);
        var wakeMilliseconds = Stopwatch.GetElapsedTime(started, request.TokenTimestamps[0]).TotalMilliseconds;
        return new LlamaWakeResult(bytes, wakeMilliseconds, gigabytesPerSecond);
    }
}

/// <summary>An 8B model's wake to its first token, and the floor its bytes set at the measured pinned copy rate.</summary>
internal sealed record LlamaWakeResult(ulong Bytes, double WakeMilliseconds, double PinnedGigabytesPerSecond)
{
    public double FloorMilliseconds => Bytes / (PinnedGigabytesPerSecond * 1e9) * 1e3;
}
