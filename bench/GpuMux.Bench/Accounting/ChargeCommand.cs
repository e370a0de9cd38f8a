using System.Diagnostics;
using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;

namespace GpuMux.Bench.Accounting;

/// <summary><c>GpuMux.Bench charge</c>: exit code 0 when every case ran, 1 when the GPU or the engine failed, 2 on a bad command line.</summary>
internal static class ChargeCommand
{
    private const int MarkRepeats = 20_000;

    public static int Run(IReadOnlyList<string> args) => BenchCommand.Run(
        "charge", args, ChargeOptions.Usage, ChargeOptions.Parse, options => RunAsync(options).GetAwaiter().GetResult(),
        e => e is GpuException or EngineException or IOException or UnauthorizedAccessException);

    private static async Task<int> RunAsync(ChargeOptions options)
    {
        var environment = RunEnvironment.Capture();
        var simulated = new SimDeviceOptions();
        var selection = BenchCommand.SelectBackend(options.Backend, simulated);
        var backend = selection.Backend;
        // The Sim models each kernel as its body's time and a fixed cost, which the device is busy for.
        var kernelOverhead = backend.Kind == GpuBackendKind.Sim ? simulated.OperationLatency : TimeSpan.Zero;
        var device = backend.Devices[0];
        Console.WriteLine($"backend: {backend.Description}");
        var markNs = MarkCost(backend);
        var cases = new List<ChargeCase>();
        foreach (var tenants in options.Tenants)
        {
            Console.Error.WriteLine($"{tenants} tenants for {options.Seconds} s");
            cases.Add(await ChargeBenchmark.MeasureAsync(backend, options, kernelOverhead, tenants).ConfigureAwait(false));
        }
        var run = new ChargeRun(environment, backend.Kind, backend.Description, selection.CudaUnavailableReason, device, options, kernelOverhead, markNs, cases);
        if (options.OutputDirectory is { } directory)
        {
            Console.WriteLine($"raw results: {ChargeReport.WriteFile(run, directory)}");
        }
        Console.WriteLine();
        ChargeReport.WriteSummary(Console.Out, run);
        return 0;
    }

    /// <summary>What one more mark costs the engine thread: a record and a query of a pooled event on an idle stream, in ns.</summary>
    private static double MarkCost(GpuBackend backend)
    {
        using var context = backend.CreateContext(0);
        using var stream = context.CreateStream();
        using var marker = context.CreateEvent(enableTiming: true);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < MarkRepeats; i++)
        {
            stream.Record(marker);
            marker.IsComplete();
        }
        return Stopwatch.GetElapsedTime(started).TotalNanoseconds / MarkRepeats;
    }
}

/// <summary>Everything one run of the charge benchmark found, and what it ran on.</summary>
internal sealed record ChargeRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    ChargeOptions Options,
    TimeSpan KernelOverhead,
    double MarkNanoseconds,
    IReadOnlyList<ChargeCase> Cases)
{
    public bool IsModelled => BackendKind == GpuBackendKind.Sim;
}
