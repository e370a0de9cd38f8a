namespace GpuMux.Client.Llama;

/// <summary>
/// Writes one forward pass of a batch as steps: each request's next tokens (a chunk of its prompt,
/// or its last token) in one row each of the activations, every layer's launches in order, then
/// the logits and the choice of a token for each request whose chunk ends its input. A pass longer
/// than a step may be is split between layers into steps that run one after another, since a
/// session's steps run in submission order.
/// </summary>
internal sealed class LlamaForward(LlamaConfig config, LlamaDeviceWeights weights, LlamaKernels kernels, LlamaScratch scratch, ClientModel model, int pageTokens, int maxOpsPerStep)
{
    private const uint Block = 256;
    private const uint WarpsPerBlock = Block / 32;
    private const uint MaxGrid = 4096;
    private const int HeadOps = 4;
    private const int LaunchesPerLayer = 13;

    private readonly List<StepBuilder> _steps = [];
    private readonly List<int> _lastRows = [];
    private StepBuilder _step = null!;
    private int _stepsUsed;

    /// <summary>The ops of one layer for a batch of <paramref name="requests"/>: 13 launches, 3 more for q, k and v biases, and an append and an attention per request.</summary>
    public static int LayerOps(LlamaConfig config, int requests) => LaunchesPerLayer + (config.QkvBias ? 3 : 0) + (2 * requests);

    /// <summary>The steps of a pass over <paramref name="batch"/>.</summary>
    public IReadOnlyList<StepBuilder> Build(IReadOnlyList<BatchEntry> batch)
    {
        _stepsUsed = 0;
        NextStep();
        var tokens = WriteInputs(batch);
        _step.CopyIn(scratch.Region, scratch.IdsAt, scratch.Device, scratch.Ids, (ulong)tokens * 4)
            .CopyIn(scratch.Region, scratch.PositionsAt, scratch.Device, scratch.Positions, (ulong)tokens * 4);
        Launch(kernels.Embedding(weights.Embedding.Type), Elements(tokens, config.HiddenSize))
            .Tensor(weights.Embedding.Tensor).Buffer(scratch.Device, scratch.Ids).Buffer(scratch.Device, scratch.X)
            .UInt32((uint)tokens).UInt32((uint)config.VocabSize).UInt32((uint)config.HiddenSize);

        var opsLeft = maxOpsPerStep - HeadOps - 1;
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            if (LayerOps(config, batch.Count) > opsLeft)
            {
                NextStep();
                opsLeft = maxOpsPerStep - 1;
            }

            Layer(weights.Layers[layer], layer, batch, tokens);
            opsLeft -= LayerOps(config, batch.Count);
        }

        if (TailOps(batch) > opsLeft)
        {
            NextStep();
        }

        Tail(batch, tokens);

        return _steps.GetRange(0, _stepsUsed);
    }

    /// <summary>The token each entry that takes one was given, in batch order, from the last step's copy out.</summary>
    public int ChosenToken(int index) => (int)scratch.Region.AsSpan<uint>(scratch.ChosenAt + ((ulong)index * 4), 1)[0];

    /// <summary>The logits the token at <paramref name="index"/> was chosen from, when the runner keeps them.</summary>
    public float[] ChosenLogits(int index) =>
        scratch.Region.AsSpan<float>(scratch.LogitsAt + ((ulong)index * (ulong)config.VocabSize * 4), config.VocabSize).ToArray();

    private static int TailOps(IReadOnlyList<BatchEntry> batch)
    {
        var choosing = batch.Count(e => e.TakesToken);
        // The final norm, an LM head launch and a draw per choosing entry at most, one argmax, the copies out.
        return 4 + (2 * choosing);
    }

    private static (uint Grid, uint Block) Warps(long warps) => (Grid((warps + WarpsPerBlock - 1) / WarpsPerBlock), Block);

    private static (uint Grid, uint Block) Elements(long count, long width = 1) => (Grid(((count * width) + Block - 1) / Block), Block);

    private static uint Grid(long blocks) => (uint)Math.Clamp(blocks, 1, MaxGrid);

    private int WriteInputs(IReadOnlyList<BatchEntry> batch)
    {
        var ids = scratch.Region.AsSpan<uint>(scratch.IdsAt, scratch.MaxTokens);
        var positions = scratch.Region.AsSpan<uint>(scratch.PositionsAt, scratch.MaxTokens);
        var row = 0;
        foreach (var entry in batch)
        {
            for (var i = 0; i < entry.Tokens; i++, row++)
            {
                ids[row] = (uint)entry.Request.InputAt(entry.Start + i);
                positions[row] = (uint)(entry.Start + i);
            }
        }

        return row;
    }

    private void Layer(LlamaDeviceWeights.Weight[] w, int layer, IReadOnlyList<BatchEntry> batch, int tokens)
    {
        uint hidden = (uint)config.HiddenSize, kv = (uint)(config.NumKeyValueHeads * config.HeadDim), rows = (uint)tokens;
        RmsNorm(scratch.X, w[LayerWeight.InputNorm], scratch.H, tokens);
        Matmul(w[LayerWeight.Q], scratch.H, scratch.Q, hidden, hidden, rows);
        Matmul(w[LayerWeight.K], scratch.H, scratch.K, kv, hidden, rows);
        Matmul(w[LayerWeight.V], scratch.H, scratch.V, kv, hidden, rows);
        if (config.QkvBias)
        {
            BiasAdd(w[LayerWeight.QBias], scratch.Q, rows, hidden);
            BiasAdd(w[LayerWeight.KBias], scratch.K, rows, kv);
            BiasAdd(w[LayerWeight.VBias], scratch.V, rows, kv);
        }

        Rope(scratch.Q, tokens, hidden);
        Rope(scratch.K, tokens, kv);

        var row = 0u;
        foreach (var entry in batch)
        {
            var cache = entry.Request.Cache!;
            var cacheBytes = CacheBytes(entry.Request.Pages);
            var (kAt, vAt) = ((ulong)layer * 2 * cacheBytes, (((ulong)layer * 2) + 1) * cacheBytes);
            uint pages = (uint)entry.Request.Pages, start = (uint)entry.Start, count = (uint)entry.Tokens;
            Launch(kernels.KvAppend, Elements(count, kv))
                .Buffer(scratch.Device, scratch.K + ((ulong)row * kv * 4)).Buffer(scratch.Device, scratch.V + ((ulong)row * kv * 4)).Buffer(cache, kAt).Buffer(cache, vAt).Buffer(scratch.Device, scratch.PageTable)
                .UInt32(count).UInt32((uint)config.NumKeyValueHeads).UInt32((uint)config.HeadDim)
                .UInt32((uint)pageTokens).UInt32(pages).UInt32(pages).UInt32(start);
            Launch(kernels.Attention, Warps((long)count * config.NumAttentionHeads))
                .Buffer(scratch.Device, scratch.Q + ((ulong)row * hidden * 4)).Buffer(cache, kAt).Buffer(cache, vAt).Buffer(scratch.Device, scratch.PageTable).Buffer(scratch.Device, scratch.Attention + ((ulong)row * hidden * 4))
                .UInt32(count).UInt32((uint)config.NumAttentionHeads).UInt32((uint)config.NumKeyValueHeads).UInt32((uint)config.HeadDim)
                .UInt32((uint)pageTokens).UInt32(pages).UInt32(pages).UInt32(start).Float32(1f / MathF.Sqrt(config.HeadDim));
            row += count;
        }

        Matmul(w[LayerWeight.O], scratch.Attention, scratch.H, hidden, hidden, rows);
        Add(scratch.X, scratch.H, (ulong)tokens * hidden);
        RmsNorm(scratch.X, w[LayerWeight.PostAttentionNorm], scratch.H, tokens);
        var intermediate = (uint)config.IntermediateSize;
        Matmul(w[LayerWeight.Gate], scratch.H, scratch.Gate, intermediate, hidden, rows);
        Matmul(w[LayerWeight.Up], scratch.H, scratch.Up, intermediate, hidden, rows);
        Launch(kernels.SwiGlu, Elements(tokens, intermediate))
            .Buffer(scratch.Device, scratch.Gate).Buffer(scratch.Device, scratch.Up).Buffer(scratch.Device, scratch.Gate).UInt64((ulong)tokens * intermediate);
        Matmul(w[LayerWeight.Down], scratch.Gate, scratch.H, hidden, intermediate, rows);
        Add(scratch.X, scratch.H, (ulong)tokens * hidden);
    }

    /// <summary>The final norm, then logits for the last row of each entry that takes a token (a run of such rows in one launch), then the choices.</summary>
    private void Tail(IReadOnlyList<BatchEntry> batch, int tokens)
    {
        uint hidden = (uint)config.HiddenSize, vocab = (uint)config.VocabSize;
        RmsNorm(scratch.X, weights.FinalNorm, scratch.H, tokens);
        _lastRows.Clear();
        var row = 0;
        foreach (var entry in batch)
        {
            row += entry.Tokens;
            if (entry.TakesToken)
            {
                _lastRows.Add(row - 1);
            }
        }

        for (var first = 0; first < _lastRows.Count;)
        {
            var count = 1;
            while (first + count < _lastRows.Count && _lastRows[first + count] == _lastRows[first] + count)
            {
                count++;
            }

            Matmul(weights.LmHead, scratch.H + ((ulong)_lastRows[first] * hidden * 4), scratch.Logits + ((ulong)first * vocab * 4), vocab, hidden, (uint)count);
            first += count;
        }

        var choosing = (uint)_lastRows.Count;
        if (choosing == 0)
        {
            return;
        }

        if (batch.Any(e => e.TakesToken && e.Request.Generation.IsGreedy))
        {
            Launch(kernels.ArgMax, Warps(choosing)).Buffer(scratch.Device, scratch.Logits).Buffer(scratch.Device, scratch.Chosen).UInt32(choosing).UInt32(vocab);
        }

        var index = 0u;
        foreach (var entry in batch.Where(e => e.TakesToken))
        {
            var generation = entry.Request.Generation;
            if (!generation.IsGreedy)
            {
                Launch(kernels.Sample, Warps(1))
                    .Buffer(scratch.Device, scratch.Logits + ((ulong)index * vocab * 4)).Buffer(scratch.Device, scratch.Chosen + ((ulong)index * 4)).UInt32(1).UInt32(vocab)
                    .UInt64(generation.Seed).UInt32(entry.Request.NextStep).Float32(generation.Temperature)
                    .UInt32((uint)Math.Max(0, generation.TopK)).Float32(generation.TopP);
            }

            index++;
        }

        _step.CopyOut(scratch.Device, scratch.Chosen, scratch.Region, scratch.ChosenAt, (ulong)choosing * 4);
        if (scratch.LogitsBytes > 0)
        {
            _step.CopyOut(scratch.Device, scratch.Logits, scratch.Region, scratch.LogitsAt, (ulong)choosing * vocab * 4);
        }
    }

    private ulong CacheBytes(int pages) => (ulong)pages * (ulong)pageTokens * (ulong)(config.NumKeyValueHeads * config.HeadDim) * 4;

    private void RmsNorm(ulong x, LlamaDeviceWeights.Weight w, ulong y, int rows) =>
        Launch(kernels.RmsNorm(w.Type), Warps(rows))
            .Buffer(scratch.Device, x).Tensor(w.Tensor).Buffer(scratch.Device, y).UInt32((uint)rows).UInt32((uint)config.HiddenSize).Float32((float)config.RmsNormEps);

    private void Matmul(LlamaDeviceWeights.Weight w, ulong x, ulong y, uint rows, uint cols, uint tokens) =>
        Launch(kernels.Matmul(w.Type), Warps((long)rows * ((tokens + 7) / 8)))
            .Tensor(w.Tensor).Buffer(scratch.Device, x).Buffer(scratch.Device, y).UInt32(rows).UInt32(cols).UInt32(tokens);

    private void BiasAdd(LlamaDeviceWeights.Weight bias, ulong y, uint rows, uint cols) =>
        Launch(kernels.BiasAdd(bias.Type), Elements(rows, cols))
            .Buffer(scratch.Device, y).Tensor(bias.Tensor).UInt32(rows).UInt32(cols);

    private void Rope(ulong x, int tokens, uint width) =>
        Launch(kernels.Rope, Elements(tokens, width / 2))
            .Buffer(scratch.Device, x).Buffer(scratch.Device, scratch.Positions).UInt32((uint)tokens).UInt32(width).UInt32((uint)config.HeadDim).Float32((float)config.RopeTheta);

    private void Add(ulong y, ulong x, ulong count) =>
        Launch(kernels.Add, Elements((long)count)).Buffer(scratch.Device, y).Buffer(scratch.Device, x).UInt64(count);

    private StepBuilder Launch(KernelFunction function, (uint Grid, uint Block) shape) => _step.Launch(function, shape.Grid, shape.Block);

    private void NextStep()
    {
        if (_stepsUsed == _steps.Count)
        {
            _steps.Add(new StepBuilder());
        }

        _step = _steps[_stepsUsed++].Clear().UseModel(model);
    }
}

/// <summary>One request's part of a forward pass: <see cref="Tokens"/> of its input from position <see cref="Start"/>.</summary>
internal readonly record struct BatchEntry(LlamaRequest Request, int Start, int Tokens)
{
    /// <summary>The chunk ends the request's input so far, so its logits choose the next token.</summary>
    public bool TakesToken => Start + Tokens == Request.InputLength;
}
