using System.Globalization;
using GpuMux.Client.Llama;
using GpuMux.Llama;
using GpuMux.Llama.Checkpoints;

namespace GpuMux.Bench.Llama;

/// <summary>
/// The many-model trace on Llama-format models: <see cref="Models"/> generated checkpoints of
/// <see cref="Shape"/>, their popularity Zipf(<see cref="ZipfExponent"/>) by rank, requests
/// arriving as a Poisson process for <see cref="DurationSeconds"/> at each of <see cref="Rates"/>,
/// each with a prompt and an output length uniform in their ranges; all drawn from <see cref="Seed"/>.
/// </summary>
internal sealed record LlamaTraceParameters
{
    /// <summary>The default shape: small enough for the Sim, whose kernels run on the host's CPU, to decode a CI-sized trace in minutes, and large enough that each model takes several pages of the pool.</summary>
    public const string SmallShape = "small";

    public string Shape { get; init; } = SmallShape;

    public int Models { get; init; } = 6;

    /// <summary>The share of all the models' weights that the device pool holds beside the runners' buffers and the requests' KV caches: below 1, models must swap.</summary>
    public double WeightsRoom { get; init; } = 0.4;

    public double ZipfExponent { get; init; } = 1.1;

    /// <summary>Requests per second, ascending.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [1, 2, 4, 8];

    public double DurationSeconds { get; init; } = 10;

    public int MinPromptTokens { get; init; } = 4;

    public int MaxPromptTokens { get; init; } = 32;

    public int MinOutputTokens { get; init; } = 4;

    public int MaxOutputTokens { get; init; } = 24;

    /// <summary>Time to first token: from a request's arrival to its first token delivered.</summary>
    public double TtftSloMilliseconds { get; init; } = 1000;

    /// <summary>Time per output token: the mean gap between a request's tokens after the first.</summary>
    public double TpotSloMilliseconds { get; init; } = 100;

    /// <summary>The most requests one forward pass of a model advances.</summary>
    public int MaxBatchRequests { get; init; } = 8;

    public int Seed { get; init; } = 1;

    /// <summary>The daemon's <c>Scheduling:SwapAmortization</c> under the step policy.</summary>
    public double SwapAmortization { get; init; } = new Engine.Scheduling.SchedulingOptions().SwapAmortization;

    /// <summary>How long after the arrival window a request may still finish: the longest it can take and meet both objectives.</summary>
    public double DrainSeconds => (TtftSloMilliseconds + (MaxOutputTokens * TpotSloMilliseconds)) / 1e3;

    public LlamaConfig Config => Shape == SmallShape
        ? LlamaShapes.Tiny with { HiddenSize = 256, IntermediateSize = 688, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 2, VocabSize = 2048 }
        : LlamaShapes.Find(Shape) ?? throw new InvalidOperationException($"no shape '{Shape}'");

    /// <summary>One model's weights, in bytes.</summary>
    public long ModelBytes => LlamaTensor.All(Config).Sum(tensor => tensor.Elements) * Config.DType.ElementSize;

    public string CommandLine => string.Create(CultureInfo.InvariantCulture,
        $"--shape {Shape} --models {Models} --weights-room {WeightsRoom} --zipf {ZipfExponent} --rates {string.Join(',', Rates)} --duration-s {DurationSeconds} --prompt-tokens {MinPromptTokens}-{MaxPromptTokens} --output-tokens {MinOutputTokens}-{MaxOutputTokens} --ttft-slo-ms {TtftSloMilliseconds} --tpot-slo-ms {TpotSloMilliseconds} --max-batch {MaxBatchRequests} --seed {Seed} --swap-amortization {SwapAmortization}");
}
