namespace GpuMux.Client.Llama;

/// <summary>
/// A runner's working memory, sized for its largest forward pass and reused by every one: the
/// activations (f32, a row per token fed) as slices of one device buffer, since the daemon hands
/// buffers out in whole pages; and one shared region through which token ids and positions go in
/// and chosen tokens (and, when kept, their logits) come out. One forward pass is under way at a
/// time, so nothing here is shared between two.
/// </summary>
internal sealed class LlamaScratch : IAsyncDisposable
{
    // Each slice starts on a boundary wide enough for any kernel's loads.
    private const ulong Alignment = 256;

    private LlamaScratch(LlamaConfig config, int maxTokens, int maxRequests, int maxPages, bool keepLogits)
    {
        MaxTokens = maxTokens;
        MaxRequests = maxRequests;
        MaxPages = maxPages;
        ulong tokens = (ulong)maxTokens, hidden = (ulong)config.HiddenSize, intermediate = (ulong)config.IntermediateSize;
        var kv = (ulong)(config.NumKeyValueHeads * config.HeadDim);
        var logits = (ulong)maxRequests * (ulong)config.VocabSize;
        ulong end = 0;
        ulong Take(ulong floats)
        {
            var at = end;
            end = (at + (floats * 4) + Alignment - 1) / Alignment * Alignment;
            return at;
        }

        (X, H, Q, K, V, Attention) = (Take(tokens * hidden), Take(tokens * hidden), Take(tokens * hidden), Take(tokens * kv), Take(tokens * kv), Take(tokens * hidden));
        (Gate, Up, Logits) = (Take(tokens * intermediate), Take(tokens * intermediate), Take(logits));
        (Ids, Positions, Chosen, PageTable) = (Take(tokens), Take(tokens), Take((ulong)maxRequests), Take((ulong)maxPages));
        DeviceBytes = end;
        LogitsBytes = keepLogits ? logits * 4 : 0;
    }

    public int MaxTokens { get; }

    public int MaxRequests { get; }

    public int MaxPages { get; }

    /// <summary>The one buffer every slice below is an offset into.</summary>
    public DeviceBuffer Device { get; private set; } = null!;

    public ulong DeviceBytes { get; }

    /// <summary>The residual stream, tokens × hidden.</summary>
    public ulong X { get; }

    /// <summary>A normed copy of the residual stream, and the output of o_proj and down_proj before they are added to it.</summary>
    public ulong H { get; }

    public ulong Q { get; }

    public ulong K { get; }

    public ulong V { get; }

    /// <summary>Attention's output, tokens × hidden.</summary>
    public ulong Attention { get; }

    /// <summary>The gate projection, then SwiGLU's output in place.</summary>
    public ulong Gate { get; }

    public ulong Up { get; }

    /// <summary>Logits, a row of vocab per request that takes a token.</summary>
    public ulong Logits { get; }

    public ulong Ids { get; }

    public ulong Positions { get; }

    public ulong Chosen { get; }

    /// <summary>Page i at index i: each request's cache is a buffer of its own, so its pages are numbered from 0.</summary>
    public ulong PageTable { get; }

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
        var scratch = new LlamaScratch(config, maxTokens, maxRequests, maxPages, keepLogits);
        try
        {
            scratch.Device = await client.AllocateBufferAsync(scratch.DeviceBytes, cancellationToken).ConfigureAwait(false);
            scratch.Region = await client.CreateRegionAsync(scratch.LogitsAt + scratch.LogitsBytes, cancellationToken).ConfigureAwait(false);
            var table = scratch.Region.AsSpan<uint>(scratch.PageTableAt, maxPages);
            for (var page = 0; page < table.Length; page++)
            {
                table[page] = (uint)page;
            }

            await client.SubmitAsync(
                new StepBuilder().CopyIn(scratch.Region, scratch.PageTableAt, scratch.Device, scratch.PageTable, (ulong)maxPages * 4), cancellationToken).ConfigureAwait(false);
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
        if (Region is { } region)
        {
            await region.DisposeAsync().ConfigureAwait(false);
        }

        if (Device is { } device)
        {
            await device.DisposeAsync().ConfigureAwait(false);
        }
    }
}
