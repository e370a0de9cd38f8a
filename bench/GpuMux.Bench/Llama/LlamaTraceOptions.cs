using GpuMux.Bench.Scheduling;
using GpuMux.Gpu;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Bench.Llama;

internal sealed record LlamaTraceOptions
{
    public const string Usage = """
        usage: GpuMux.Bench trace-llama [--backend auto|cuda|sim] [--shape small|tiny|0.5b|1.5b|7b|8b] [--models 6]
                                        [--weights-room 0.4] [--zipf 1.1] [--rates 1,2,4,8] [--duration-s 10]
                                        [--prompt-tokens 4-32] [--output-tokens 4-24] [--ttft-slo-ms 1000]
                                        [--tpot-slo-ms 100] [--max-batch 8] [--seed 1] [--swap-amortization 1]
                                        [--wake on|off] [--models-dir DIR] [--out DIR]

          --backend        auto: CUDA where present, otherwise the simulator (default auto)
          --shape          the models' shape (make-model's names), or small (default): hidden 256, 4 layers,
                           4 heads over 2 key/value heads, intermediate 688, vocabulary 2048, f16, about 8 MB,
                           which the simulator, computing every kernel on the host's CPU, decodes quickly
          --models         models, each a checkpoint of its own seed run by a LlamaRunner in a client
                           session of its own, as separate services would (default 6)
          --weights-room   the share of all the models' weights that the device pool holds beside the
                           runners' buffers and room for every request's KV cache (default 0.4: models swap)
          --zipf           exponent s of the models' popularity, Zipf by rank (default 1.1)
          --rates          request arrival rates to sweep, per second (default 1,2,4,8)
          --duration-s     arrival window per run, in seconds (default 10)
          --prompt-tokens  prompt length, uniform in MIN-MAX, or N (default 4-32); token ids uniform
          --output-tokens  tokens generated, greedy, uniform in MIN-MAX, or N (default 4-24)
          --ttft-slo-ms    time to first token objective: arrival to first token delivered (default 1000)
          --tpot-slo-ms    time per output token objective: mean gap after the first token (default 100)
          --max-batch      the most requests one forward pass of a model advances (default 8)
          --seed           seed of the trace; model k's weights have seed k (default 1)
          --swap-amortization  the daemon's Scheduling:SwapAmortization under the step policy (default 1);
                           on the Sim it counts modelled device time, of which a pass computed on the
                           host's CPU has little, so a swapped-in model keeps its turn for many passes
          --wake           on a GPU, after the sweep, also time a request to an 8b model registered but not
                           resident to its first token, beside the PCIe floor (its bytes at the pinned
                           host-to-device rate measured just before); needs about 16 GB of disk for the
                           checkpoint and as much pinned and device memory (default on; the Sim says it
                           is GPU-only)
          --models-dir     where to write the checkpoints (default a temporary directory, removed after)
          --out            also write trace-llama-<utc time>-<backend>.md and its chart (.png) into DIR

        Replays a seeded trace against gpumuxd, started in this process, under each scheduling policy
        (step, request, dedicated) at each rate, each run on a daemon of its own, warm: before the
        window, the most popular models that fit have generated a token each. Requests arrive as a
        Poisson process; each runner batches its model's requests continuously (prefill and decode).
        Per policy and rate: TTFT and TPOT p50/p99, the share of requests meeting both objectives,
        goodput (such requests per second of the window), the models with at least 90% of their
        requests meeting them, and the highest swept rate at which 90% and 99% of requests did. Every
        request's tokens are checked against the CPU reference's greedy decoding (shapes up to 1.5b)
        and against the same request's tokens in every other run.
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    public LlamaTraceParameters Parameters { get; init; } = new();

    public bool Wake { get; init; } = true;

    public string? ModelsDirectory { get; init; }

    public string? OutputDirectory { get; init; }

    public static LlamaTraceOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LlamaTraceOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            var p = options.Parameters;
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--models-dir" => options with { ModelsDirectory = value },
                "--wake" => options with { Wake = value switch { "on" => true, "off" => false, _ => throw new UsageException($"--wake: expected on or off, not '{value}'") } },
                "--out" => options with { OutputDirectory = value },
                _ => options with { Parameters = name switch
                {
                    "--shape" => p with { Shape = Shape(value) },
                    "--models" => p with { Models = OptionValues.Count(name, value, minimum: 1) },
                    "--weights-room" => p with { WeightsRoom = OptionValues.Number(name, value, above: 0) },
                    "--zipf" => p with { ZipfExponent = OptionValues.Number(name, value, above: 0) },
                    "--rates" => p with { Rates = [.. OptionValues.Numbers(name, value, above: 0).Order()] },
                    "--duration-s" => p with { DurationSeconds = OptionValues.Number(name, value, above: 0) },
                    "--prompt-tokens" => Range(name, value) switch { var (min, max) => p with { MinPromptTokens = min, MaxPromptTokens = max } },
                    "--output-tokens" => Range(name, value) switch { var (min, max) => p with { MinOutputTokens = min, MaxOutputTokens = max } },
                    "--ttft-slo-ms" => p with { TtftSloMilliseconds = OptionValues.Number(name, value, above: 0) },
                    "--tpot-slo-ms" => p with { TpotSloMilliseconds = OptionValues.Number(name, value, above: 0) },
                    "--max-batch" => p with { MaxBatchRequests = OptionValues.Count(name, value, minimum: 1) },
                    "--seed" => p with { Seed = OptionValues.Count(name, value, minimum: 0) },
                    "--swap-amortization" => p with { SwapAmortization = TraceOptions.SwapAmortization(name, value) },
                    _ => throw new UsageException($"unknown option '{name}'"),
                } },
            };
        }
        var parameters = options.Parameters;
        if (parameters.MaxPromptTokens + parameters.MaxOutputTokens > parameters.Config.MaxPositionEmbeddings)
        {
            throw new UsageException($"--prompt-tokens and --output-tokens: {parameters.MaxPromptTokens} + {parameters.MaxOutputTokens} tokens pass the model's {parameters.Config.MaxPositionEmbeddings} positions");
        }
        return options;
    }

    private static string Shape(string value) =>
        value == LlamaTraceParameters.SmallShape || LlamaShapes.Find(value) is not null
            ? value
            : throw new UsageException($"--shape: expected {LlamaTraceParameters.SmallShape}, {string.Join(", ", LlamaShapes.Names)}, not '{value}'");

    private static (int Min, int Max) Range(string name, string value)
    {
        var bounds = value.Split('-');
        if (bounds.Length > 2)
        {
            throw new UsageException($"{name}: expected MIN-MAX or N, not '{value}'");
        }
        var min = OptionValues.Count(name, bounds[0], minimum: 1);
        return (min, bounds.Length == 2 ? OptionValues.Count(name, bounds[1], minimum: min) : min);
    }
}
