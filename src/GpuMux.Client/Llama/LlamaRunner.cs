using System.Threading.Channels;

namespace GpuMux.Client.Llama;

/// <summary>
/// Runs a Llama-family model (Llama 2/3, Mistral, Qwen2 without biases, TinyLlama) through the
/// daemon with the built-in kernels: its weights registered as a model, one layer group per
/// layer, so that the first layers compute while the rest still load; each request's KV cache in
/// pages of a device buffer of its own; and prefill and decode as steps. Every forward pass
/// advances every request under way (continuous batching): one token for each request that is
/// decoding, and a chunk of the prompt of each that is still prefilling, as far as
/// <see cref="LlamaRunnerOptions.MaxBatchTokens"/> allows.
/// </summary>
public sealed class LlamaRunner : IAsyncDisposable
{
    // After a pass too big for the device, passes take fewer requests; this many passes at the
    // smaller size before trying one more, so that a device that stays full costs one failed pass
    // in this many.
    private const int PassesBeforeGrowing = 16;

    private readonly GpuMuxClient _client;
    private readonly LlamaRunnerOptions _options;
    private readonly LlamaScratch _scratch;
    private readonly LlamaForward _forward;
    private readonly Channel<LlamaRequest> _arrivals = Channel.CreateUnbounded<LlamaRequest>(new() { SingleReader = true });
    private readonly List<LlamaRequest> _active = [];
    private readonly List<BatchEntry> _batch = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly bool _spillable;
    private bool _inRequest;
    private Exception? _failure;
    private int _batchLimit;
    private int _passesAtLimit;

    private LlamaRunner(GpuMuxClient client, LlamaCheckpoint checkpoint, ClientModel model, LlamaDeviceWeights weights, LlamaKernels kernels, LlamaScratch scratch, LlamaRunnerOptions options)
    {
        _client = client;
        _options = options;
        _scratch = scratch;
        Checkpoint = checkpoint;
        Model = model;
        // A daemon before protocol 1.6 keeps every buffer on the device.
        _spillable = options.SpillableCaches && client.Minor >= 6;
        _batchLimit = options.MaxBatchRequests;
        _forward = new LlamaForward(checkpoint.Config, weights, kernels, scratch, model, options.PageTokens, options.MaxOpsPerStep);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// How far the logits may lie from an f32 forward pass that sums each dot product in index
    /// order, as a fraction of the largest logit's magnitude: the kernels sum in another order (32
    /// lane partials, then a tree), and attention's and SwiGLU's exp may differ in the last bits on
    /// a GPU. Tokens chosen greedily are the same wherever the two largest logits are further apart.
    /// </summary>
    public const float LogitTolerance = 1e-4f;

    /// <summary>The model's directory, config and weights.</summary>
    public LlamaCheckpoint Checkpoint { get; }

    /// <summary>The model's <c>config.json</c>.</summary>
    public LlamaConfig Config => Checkpoint.Config;

    /// <summary>The weights, registered with the daemon.</summary>
    public ClientModel Model { get; }

    /// <summary>Opens a model directory (see <see cref="LlamaCheckpoint"/>), registers its weights with the daemon and allocates the runner's working memory.</summary>
    /// <exception cref="InvalidDataException">The directory is not a checkpoint the runner can run; the message says why.</exception>
    public static async Task<LlamaRunner> OpenAsync(
        GpuMuxClient client, string directory, LlamaRunnerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= new LlamaRunnerOptions();
        var checkpoint = LlamaCheckpoint.Open(directory);
        options.Validate(checkpoint.Config);
        var name = options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        ClientModel model;
        using (var weights = LlamaWeightFile.Open(checkpoint))
        {
            model = await client.RegisterModelAsync(weights.Handle, name, checkpoint.LayerGroups(), null, cancellationToken).ConfigureAwait(false);
        }

        LlamaScratch? scratch = null;
        try
        {
            var tensors = await LlamaDeviceWeights.FindAsync(client, model, checkpoint, cancellationToken).ConfigureAwait(false);
            var kernels = await LlamaKernels.FindAsync(client, checkpoint.Config, cancellationToken).ConfigureAwait(false);
            var maxPages = PagesFor(checkpoint.Config.MaxPositionEmbeddings, options.PageTokens);
            scratch = await LlamaScratch.CreateAsync(client, checkpoint.Config, options.MaxBatchTokens, options.MaxBatchRequests, maxPages, options.KeepLogits, cancellationToken)
                .ConfigureAwait(false);
            return new LlamaRunner(client, checkpoint, model, tensors, kernels, scratch, options);
        }
        catch
        {
            if (scratch is not null)
            {
                await scratch.DisposeAsync().ConfigureAwait(false);
            }

            await model.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts generating from <paramref name="prompt"/>: the request joins the next forward pass.
    /// Cancelling <paramref name="cancellationToken"/> ends it before the next pass, freeing its cache,
    /// and cancels its <see cref="LlamaRequest.Completion"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty, holds an id outside the vocabulary, or with its longest output passes the model's positions.</exception>
    /// <exception cref="InvalidOperationException">The runner stopped when its connection failed; the inner exception says how.</exception>
    public LlamaRequest Start(IReadOnlyList<int> prompt, LlamaGeneration generation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(generation);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("a prompt holds at least one token", nameof(prompt));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(generation.MaxNewTokens, 1, nameof(generation));
        foreach (var id in prompt)
        {
            if ((uint)id >= (uint)Config.VocabSize)
            {
                throw new ArgumentException($"token id {id} is outside the vocabulary of {Config.VocabSize}", nameof(prompt));
            }
        }

        var positions = prompt.Count + generation.MaxNewTokens;
        if (positions > Config.MaxPositionEmbeddings)
        {
            throw new ArgumentException(
                $"{prompt.Count} prompt tokens and up to {generation.MaxNewTokens} new ones pass the model's {Config.MaxPositionEmbeddings} positions", nameof(prompt));
        }

        var request = new LlamaRequest(prompt, generation, PagesFor(positions, _options.PageTokens), cancellationToken);
        if (!_arrivals.Writer.TryWrite(request))
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            throw new InvalidOperationException($"the runner stopped: {_failure?.Message}", _failure);
        }

        return request;
    }

    /// <summary>Generates from <paramref name="prompt"/> and returns the tokens.</summary>
    public Task<int[]> GenerateAsync(IReadOnlyList<int> prompt, LlamaGeneration generation, CancellationToken cancellationToken = default) =>
        Start(prompt, generation, cancellationToken).Completion;

    /// <summary>Fails the requests under way, waits for the pass in flight, and frees the runner's memory and the model.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _arrivals.Writer.TryComplete();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var closed = new ObjectDisposedException(nameof(LlamaRunner), "the runner was disposed before the request ended");
        while (_arrivals.Reader.TryRead(out var request))
        {
            request.Fail(closed);
        }

        foreach (var request in _active)
        {
            await EndAsync(request, closed).ConfigureAwait(false);
        }

        _active.Clear();
        await _scratch.DisposeAsync().ConfigureAwait(false);
        await Model.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static int PagesFor(int positions, int pageTokens) => (positions + pageTokens - 1) / pageTokens;

    private async Task RunAsync()
    {
        try
        {
            await ServeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            // Whatever broke the loop (the connection lost, say) ends every request with it rather
            // than leaving them waiting; Start refuses from then on.
            _failure = e;
            _arrivals.Writer.TryComplete();
            foreach (var request in _active)
            {
                await EndAsync(request, e).ConfigureAwait(false);
            }

            _active.Clear();
            while (_arrivals.Reader.TryRead(out var request))
            {
                request.Fail(e);
            }
        }
    }

    private async Task ServeAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            if (_active.Count == 0)
            {
                await EndModelRequestAsync().ConfigureAwait(false);
                try
                {
                    if (!await _arrivals.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            while (_arrivals.Reader.TryRead(out var arrived))
            {
                _active.Add(arrived);
            }

            await PassAsync(stopping).ConfigureAwait(false);
        }
    }

    /// <summary>One forward pass: decoding requests first, a token each, then prompt chunks in arrival order with what is left.</summary>
    private async Task PassAsync(CancellationToken stopping)
    {
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            if (_active[i].Cancellation.IsCancellationRequested)
            {
                var cancelled = _active[i];
                _active.RemoveAt(i);
                await EndAsync(cancelled, new OperationCanceledException(cancelled.Cancellation)).ConfigureAwait(false);
            }
        }

        _batch.Clear();
        var tokens = 0;
        foreach (var request in _active.OrderBy(r => r.Fed < r.InputLength - 1))
        {
            var wanted = request.InputLength - request.Fed;
            var take = Math.Min(wanted, _options.MaxBatchTokens - tokens);
            if (take == 0 || _batch.Count == _batchLimit)
            {
                break;
            }

            if (request.Cache is null && !await TryAllocateCacheAsync(request, stopping).ConfigureAwait(false))
            {
                continue;
            }

            _batch.Add(new BatchEntry(request, request.Fed, take));
            tokens += take;
        }

        if (_batch.Count == 0)
        {
            return;
        }

        _inRequest = true;
        try
        {
            await SubmitAsync(_forward.Build(_batch), stopping).ConfigureAwait(false);
        }
        catch (DeviceOutOfMemoryException) when (_batch.Count > 1)
        {
            // The pass's model, scratch and caches together pass what the device can hold: fewer
            // requests a pass, and these go again. Nothing is undone: a pass only writes keys and
            // values at positions it feeds, and feeding them again writes the same ones.
            _batchLimit = Math.Max(1, _batch.Count / 2);
            _passesAtLimit = 0;
            return;
        }
        catch (Exception e)
        {
            foreach (var entry in _batch)
            {
                _active.Remove(entry.Request);
                await EndAsync(entry.Request, e).ConfigureAwait(false);
            }

            if (e is GpuMuxConnectionException)
            {
                // Every later call would fail the same way: the runner stops, and its other requests with it.
                throw;
            }

            return;
        }

        if (_batchLimit < _options.MaxBatchRequests && ++_passesAtLimit >= PassesBeforeGrowing)
        {
            _batchLimit++;
            _passesAtLimit = 0;
        }

        var chosen = 0;
        foreach (var entry in _batch)
        {
            var request = entry.Request;
            request.Fed += entry.Tokens;
            if (!entry.TakesToken)
            {
                continue;
            }

            if (_options.KeepLogits)
            {
                request.KeepLogits(_forward.ChosenLogits(chosen));
            }

            if (request.Deliver(_forward.ChosenToken(chosen++)))
            {
                _active.Remove(request);
                await EndAsync(request, null).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Submits a pass's steps, at most <see cref="LlamaRunnerOptions.MaxStepsInFlight"/> at a time, and waits for them all.</summary>
    private async Task SubmitAsync(IReadOnlyList<StepBuilder> steps, CancellationToken stopping)
    {
        var inFlight = new Queue<Task>();
        try
        {
            foreach (var step in steps)
            {
                if (inFlight.Count == _options.MaxStepsInFlight)
                {
                    await inFlight.Dequeue().ConfigureAwait(false);
                }

                inFlight.Enqueue(_client.SubmitAsync(step, stopping).AsTask());
            }

            while (inFlight.TryDequeue(out var step))
            {
                await step.ConfigureAwait(false);
            }
        }
        finally
        {
            // A failed step leaves the later ones to finish, and to be observed, before the pass is failed.
            foreach (var step in inFlight)
            {
                await step.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Allocates a request's cache; a request the daemon refuses memory fails alone.</summary>
    private async Task<bool> TryAllocateCacheAsync(LlamaRequest request, CancellationToken stopping)
    {
        var config = Config;
        var bytes = 2UL * (ulong)config.NumHiddenLayers * (ulong)request.Pages * (ulong)_options.PageTokens * (ulong)(config.NumKeyValueHeads * config.HeadDim) * 4;
        try
        {
            request.Cache = await _client.AllocateBufferAsync(bytes, _spillable, stopping).ConfigureAwait(false);
            return true;
        }
        catch (GpuMuxException e)
        {
            _active.Remove(request);
            request.Fail(e);
            return false;
        }
    }

    private async Task EndAsync(LlamaRequest request, Exception? failure)
    {
        if (request.Cache is { } cache)
        {
            request.Cache = null;
            try
            {
                await cache.DisposeAsync().ConfigureAwait(false);
            }
            catch (GpuMuxException)
            {
                // A session that is gone has freed it already.
            }
        }

        if (failure is null)
        {
            request.Finish();
        }
        else if (failure is OperationCanceledException cancelled)
        {
            request.Cancel(cancelled);
        }
        else
        {
            request.Fail(failure);
        }
    }

    /// <summary>
    /// Tells the daemon the model's requests are over for now (its <c>request</c> policy holds a
    /// model resident from a request's first step to its last), with a step that only ends it.
    /// </summary>
    private async Task EndModelRequestAsync()
    {
        if (!_inRequest)
        {
            return;
        }

        _inRequest = false;
        try
        {
            await _client.SubmitAsync(new StepBuilder().UseModel(Model).EndRequest()).ConfigureAwait(false);
        }
        catch (GpuMuxException)
        {
            // Nothing rides on it: the daemon frees the model's hold when the session ends anyway.
            // A lost connection is not caught here: it stops the runner.
        }
    }
}
