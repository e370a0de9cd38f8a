namespace GpuMux.Client.Llama;

/// <summary>How a <see cref="LlamaRunner"/> lays its work out in steps and device memory.</summary>
public sealed record LlamaRunnerOptions
{
    /// <summary>The model's name at the daemon; the directory's name when null.</summary>
    public string? Name { get; init; }

    /// <summary>Positions per page of a request's KV cache: a request takes whole pages for its prompt and its longest output.</summary>
    public int PageTokens { get; init; } = 16;

    /// <summary>The most tokens one forward pass feeds, all requests together: a longer prompt is prefilled in chunks of what decoding leaves.</summary>
    public int MaxBatchTokens { get; init; } = 256;

    /// <summary>The most requests one forward pass advances; more wait their turn.</summary>
    public int MaxBatchRequests { get; init; } = 32;

    /// <summary>The most ops one step may hold: the daemon's <c>max_ops_per_step</c>. A forward pass longer than this spans several steps, split between layers.</summary>
    public int MaxOpsPerStep { get; init; } = 256;

    /// <summary>The most steps of a pass submitted and not yet completed: at most the daemon's <c>Limits:MaxInFlightStepsPerSession</c>, less any other work of the session.</summary>
    public int MaxStepsInFlight { get; init; } = 4;

    /// <summary>Whether each request keeps the logits each of its tokens was chosen from (<see cref="LlamaRequest.Logits"/>): a copy of a vocabulary's floats a token.</summary>
    public bool KeepLogits { get; init; }

    /// <summary>Whether requests' KV caches may be spilled to host memory while they are not running (where the daemon supports it).</summary>
    public bool SpillableCaches { get; init; } = true;

    internal void Validate(LlamaConfig config)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(PageTokens, 1, nameof(PageTokens));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStepsInFlight, 1, nameof(MaxStepsInFlight));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchRequests, 1, nameof(MaxBatchRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchTokens, MaxBatchRequests, nameof(MaxBatchTokens));
        // The largest layer, every request's append and attention with the layer's other launches, and a step's UseModel.
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOpsPerStep, LlamaForward.LayerOps(config, MaxBatchRequests) + 1, nameof(MaxOpsPerStep));
    }
}
