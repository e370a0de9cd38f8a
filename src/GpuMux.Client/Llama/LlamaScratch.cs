namespace GpuMux.Client.Llama;

/// <summary>
/// A runner's working memory, sized for its largest forward pass and reused by every one: the
/// activations on the device (f32, a row per token fed), and one shared region through which
/// token ids and positions go in and chosen tokens come out. One forward pass is under way at a
/// time, so nothing here is shared between two.
/// </summary>
internal sealed class LlamaScratch : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private LlamaScratch(int maxTokens, int maxRequests, int maxPages, ulong logitsBytes)
    {
        LogitsBytes = logitsBytes;
        MaxTokens = maxTokens;
        MaxRequests = maxRequests;
        MaxPages = maxPages;
    }

    public int MaxTokens { get; }

    public int MaxRequests { get; }

    public int MaxPages { get; }

    /// <summary>The residual stream, tokens × hidden.</summary>
    public DeviceBuffer X { get; private set; } = null!;

    /// <summary>A normed copy of the residual stream, and the output of o_proj and down_proj before they are added to it.</summary>
    public DeviceBuffer H { get; private set; } = null!;

    public DeviceBuffer Q { get; private set; } = null!;

    public DeviceBuffer K { get; private set; } = null!;

    public DeviceBuffer V { get; private set; } = null!;

    /// <summary>Attention's output, tokens × hidden.</summary>
    public DeviceBuffer Attention { get; private set; } = null!;

    /// <summary>The gate projection, then SwiGLU's output in place.</summary>
    public DeviceBuffer Gate { get; private set; } = null!;

    public DeviceBuffer Up { get; private set; } = null!;

    /// <summary>Logits, a row of vocab per request that takes a token.</summary>
    public DeviceBuffer Logits { get; private set; } = null!;

    public DeviceBuffer Ids { get; private set; } = null!;

    public DeviceBuffer Positions { get; private set; } = null!;

    public DeviceBuffer Chosen { get; private set; } = null!;

    /// <summary>Page i at index i: each request's cache is a buffer of its own, so its pages are numbered from 0.</summary>
    public DeviceBuffer PageTable { get; private set; } = null!;

    public SharedRegion Region { get; private set; } = null!;

    public ulong IdsAt => 0;

    public ulong PositionsAt => (ulong)MaxTokens * 4;

    public ulong ChosenAt => (ulong)MaxTokens * 8;

    public ulong PageTableAt => ChosenAt + ((ulong)MaxRequests * 4);

    /// <summary>Where the logits come out, when requests keep them; <see cref="LogitsBytes"/> is 0 when they do not.</summary>
    public ulong LogitsAt => PageTableAt + ((ulong)MaxPages * 4);

    public ulong LogitsBytes { get; }

    public static async Task<LlamaScratch> CreateAsync(
        GpuMuxClient client, LlamaConfig config, int maxTokens, int maxRequests, int maxPages, bool keepLogits, CancellationToken cancellationToken)
    {
        var logitsBytes = keepLogits ? (ulong)maxRequests * (ulong)config.VocabSize * 4 : 0;
        var scratch = new LlamaScratch(maxTokens, maxRequests, maxPages, logitsBytes);
        try
        {
            ulong tokens = (ulong)maxTokens, hidden = (ulong)config.HiddenSize;
            var kv = (ulong)(config.NumKeyValueHeads * config.HeadDim);
            async Task<DeviceBuffer> Floats(ulong count) =>
                scratch.Own(await client.AllocateBufferAsync(count * 4, cancellationToken).ConfigureAwait(false));

            scratch.X = await Floats(tokens * hidden).ConfigureAwait(false);
            scratch.H = await Floats(tokens * hidden).ConfigureAwait(false);
            scratch.Q = await Floats(tokens * hidden).ConfigureAwait(false);
            scratch.K = await Floats(tokens * kv).ConfigureAwait(false);
            scratch.V = await Floats(tokens * kv).ConfigureAwait(false);
            scratch.Attention = await Floats(tokens * hidden).ConfigureAwait(false);
            scratch.Gate = await Floats(tokens * (ulong)config.IntermediateSize).ConfigureAwait(false);
            scratch.Up = await Floats(tokens * (ulong)config.IntermediateSize).ConfigureAwait(false);
            scratch.Logits = await Floats((ulong)maxRequests * (ulong)config.VocabSize).ConfigureAwait(false);
            scratch.Ids = await Floats(tokens).ConfigureAwait(false);
            scratch.Positions = await Floats(tokens).ConfigureAwait(false);
            scratch.Chosen = await Floats((ulong)maxRequests).ConfigureAwait(false);
            scratch.PageTable = await Floats((ulong)maxPages).ConfigureAwait(false);
            scratch.Region = scratch.Own(await client.CreateRegionAsync(scratch.LogitsAt + logitsBytes, cancellationToken).ConfigureAwait(false));
            var table = scratch.Region.AsSpan<uint>(scratch.PageTableAt, maxPages);
            for (var page = 0; page < table.Length; page++)
            {
                table[page] = (uint)page;
            }

            await client.SubmitAsync(
                new StepBuilder().CopyIn(scratch.Region, scratch.PageTableAt, scratch.PageTable, 0, (ulong)maxPages * 4), cancellationToken).ConfigureAwait(false);
            return scratch;
        }
        catch
        {
            await scratch.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }

        _owned.Clear();
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }
}
