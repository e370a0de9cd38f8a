using System.Threading.Channels;

namespace GpuMux.Client.Llama;

/// <summary>
/// One prompt's generation under way in a <see cref="LlamaRunner"/>: its tokens as they come, and
/// all of them at the end. Its KV cache is a device buffer of its own, in pages, freed when it ends.
/// </summary>
public sealed class LlamaRequest
{
    private readonly Channel<int> _tokens = Channel.CreateUnbounded<int>(new() { SingleWriter = true });
    private readonly TaskCompletionSource<int[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _generated = [];
    private readonly List<long> _timestamps = [];
    private readonly List<float[]> _logits = [];
    private readonly int[] _prompt;

    internal LlamaRequest(IReadOnlyList<int> prompt, LlamaGeneration generation, int pages, CancellationToken cancellation)
    {
        Cancellation = cancellation;
        _prompt = [.. prompt];
        Generation = generation;
        Pages = pages;
    }

    /// <summary>Each generated token as soon as the step that chose it completes; completes after the last, or with the request's failure.</summary>
    public ChannelReader<int> Tokens => _tokens.Reader;

    /// <summary>Every generated token, once the request ends; faulted with the failure if it fails.</summary>
    public Task<int[]> Completion => _completion.Task;

    /// <summary>The time each token was delivered, on <see cref="System.Diagnostics.Stopwatch"/>'s clock: the first is the time to first token.</summary>
    public IReadOnlyList<long> TokenTimestamps => _timestamps;

    /// <summary>The logits each token was chosen from, in order, when the runner keeps them (<see cref="LlamaRunnerOptions.KeepLogits"/>); empty otherwise. Read it once the request has ended.</summary>
    public IReadOnlyList<float[]> Logits => _logits;

    internal LlamaGeneration Generation { get; }

    internal CancellationToken Cancellation { get; }

    /// <summary>Pages of its KV cache, for its prompt and its longest output.</summary>
    internal int Pages { get; }

    /// <summary>The KV cache, allocated when the request first runs.</summary>
    internal DeviceBuffer? Cache { get; set; }

    /// <summary>Positions whose keys and values are in the cache.</summary>
    internal int Fed { get; set; }

    /// <summary>Its input so far, the prompt then each generated token.</summary>
    internal int InputLength => _prompt.Length + _generated.Count;

    internal int InputAt(int position) => position < _prompt.Length ? _prompt[position] : _generated[position - _prompt.Length];

    internal int GeneratedCount => _generated.Count;

    /// <summary>The step index the sampler seeds this request's next draw with.</summary>
    internal uint NextStep => (uint)_generated.Count;

    /// <summary>Records a chosen token and delivers it; true when the request is done.</summary>
    internal bool Deliver(int token)
    {
        _generated.Add(token);
        _timestamps.Add(System.Diagnostics.Stopwatch.GetTimestamp());
        _tokens.Writer.TryWrite(token);
        return _generated.Count >= Generation.MaxNewTokens || Generation.StopTokens.Contains(token);
    }

    internal void KeepLogits(float[] logits) => _logits.Add(logits);

    internal void Finish()
    {
        _tokens.Writer.TryComplete();
        _completion.TrySetResult([.. _generated]);
    }

    internal void Cancel(OperationCanceledException reason)
    {
        _tokens.Writer.TryComplete(reason);
        _completion.TrySetCanceled(reason.CancellationToken);
    }

    internal void Fail(Exception reason)
    {
        _tokens.Writer.TryComplete(reason);
        _completion.TrySetException(reason);
    }
}
