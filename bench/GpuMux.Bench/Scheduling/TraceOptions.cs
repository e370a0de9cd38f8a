using GpuMux.Bench.Models;
using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

internal sealed record TraceOptions
{
    public const string Usage = """
        usage: GpuMux.Bench trace [--backend auto|cuda|sim] [--models 24] [--model-mib 96] [--pool-mib 768]
                                  [--zipf 1.1] [--rates 1,2,3,4,6,8,12,16,20,24] [--duration-s 20]
                                  [--steps-per-request 64-256] [--step-us 2500] [--slo-ms 100] [--seed 1]
                                  [--swap-amortization 1] [--sim-copy-gbps 4] [--out DIR]

          --backend            auto: CUDA where present, otherwise the simulator (default auto)
          --models             models, each in a session of its own, all under one service uid (default 24)
          --model-mib          size of each model (default 96): f16 layers of 4096 columns, about 32 MiB
                               each, one layer group each
          --pool-mib           the engine's device pool (default 768), shared by resident models and
                               one 2 MiB page of buffers per session
          --zipf               exponent s of the models' popularity, Zipf by rank (default 1.1)
          --rates              request arrival rates to sweep, per second (default 1,2,3,4,6,8,12,16,20,24)
          --duration-s         arrival window per run, in seconds (default 20)
          --steps-per-request  decode steps (tokens) per request, uniform in MIN-MAX, or N (default 64-256)
          --step-us            device time of one decode step, whatever its batch, in microseconds
                               (default 2500: compute alone keeps 40 models at the objective's pace)
          --slo-ms             time-per-step objective, in milliseconds (default 100): a request's step i
                               (from 0) is due (i + 1) objectives after its arrival
          --seed               seed of the trace (default 1)
          --swap-amortization  under the step policy, the device time a model swapped in keeps its place
                               for while steps want it, in multiples of its swap-in's time (default 1)
          --sim-copy-gbps      pinned host-to-device bandwidth of the simulated device, in GB/s
                               (default 4: a 96 MiB swap-in takes 25 ms, ten decode steps' worth)
          --out                also write a raw results file, trace-<utc time>-<backend>.md, and the
                               chart, trace-<utc time>-<backend>.png, into DIR

        Replays a seeded trace of many models with skewed popularity against the engine under each
        scheduling policy (step, request, dedicated), at each rate, each run on an engine of its own,
        warm: before the window, the most popular models that fit have run a step each. Then
        requests arrive as a Poisson process. Each model batches continuously, as an inference
        server does: one decode step at a time, each a token of every request of the model under
        way, carrying as its deadline the earliest due time of those tokens; a step is, per layer
        group, a one-row gemv_f16 over that group's weights (so it waits for them) and a spin kernel
        of its share of the step's time. After the arrival window, requests may finish for as long
        as their longest possible run on time; what is left is missed. Reported per policy and
        rate: the share of steps on time and the share within one objective of the step before,
        p50 and p99 of those gaps, p99 time to first step, the mean batch, swaps, and which models
        had 99% of their steps on time; then the highest rate each policy sustains at 99% in either
        reading, and a chart of the share on time against the rate.
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    public TraceParameters Parameters { get; init; } = new();

    public string? OutputDirectory { get; init; }

    /// <summary>The page size of the engine's device pool, in which each session's buffers take one page.</summary>
    public static int SessionPageMib => 2;

    public static TraceOptions Parse(IReadOnlyList<string> args)
    {
        var options = new TraceOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            var p = options.Parameters;
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--out" => options with { OutputDirectory = value },
                _ => options with { Parameters = name switch
                {
                    "--models" => p with { Models = OptionValues.Count(name, value, minimum: 1) },
                    "--model-mib" => p with { ModelMib = OptionValues.Count(name, value, minimum: (int)(ModelGeometry.LayerTargetBytes >> 20)) },
                    "--pool-mib" => p with { PoolMib = OptionValues.Count(name, value, minimum: 1) },
                    "--zipf" => p with { ZipfExponent = OptionValues.Number(name, value, above: 0) },
                    "--rates" => p with { Rates = [.. OptionValues.Numbers(name, value, above: 0).Order()] },
                    "--duration-s" => p with { DurationSeconds = OptionValues.Number(name, value, above: 0) },
                    "--steps-per-request" => StepsPerRequest(p, name, value),
                    "--step-us" => p with { StepComputeMicroseconds = OptionValues.Count(name, value, minimum: 1) },
                    "--slo-ms" => p with { SloMilliseconds = OptionValues.Number(name, value, above: 0) },
                    "--seed" => p with { Seed = OptionValues.Count(name, value, minimum: 0) },
                    "--swap-amortization" => p with { SwapAmortization = SwapAmortization(name, value) },
                    "--sim-copy-gbps" => p with { SimCopyGigabytesPerSecond = OptionValues.Number(name, value, above: 0) },
                    _ => throw new UsageException($"unknown option '{name}'"),
                } },
            };
        }
        var parameters = options.Parameters;
        var smallest = parameters.ModelMib + (parameters.Models * SessionPageMib);
        if (parameters.PoolMib <= smallest)
        {
            throw new UsageException($"--pool-mib: {parameters.PoolMib} MiB cannot hold one model of {parameters.ModelMib} MiB beside {parameters.Models} sessions' {SessionPageMib} MiB of buffers each; give more than {smallest}");
        }
        return options;
    }

    /// <summary>From 0 to 1000, as the engine takes it.</summary>
    public static double SwapAmortization(string name, string value)
    {
        var amortization = OptionValues.Number(name, value, above: -1);
        return amortization <= 1000 ? amortization : throw new UsageException($"{name}: expected a number from 0 to 1000, not '{value}'");
    }

    private static TraceParameters StepsPerRequest(TraceParameters parameters, string name, string value)
    {
        var bounds = value.Split('-');
        if (bounds.Length > 2)
        {
            throw new UsageException($"{name}: expected MIN-MAX or N, not '{value}'");
        }
        var min = OptionValues.Count(name, bounds[0], minimum: 1);
        var max = bounds.Length == 2 ? OptionValues.Count(name, bounds[1], minimum: min) : min;
        return parameters with { MinSteps = min, MaxSteps = max };
    }
}
