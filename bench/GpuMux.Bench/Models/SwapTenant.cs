using System.Runtime.InteropServices;
using GpuMux.Engine;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Models;

/// <summary>
/// One session of the engine running the benchmark's steps, one at a time: a shared region
/// holding the input x and two output slots, device buffers for x and every layer's y, and its
/// registered models. Each step's outputs are checked against the host reference, so that no
/// figure can come from wrong work.
/// </summary>
internal sealed class SwapTenant : IAsyncDisposable
{
    private const ulong FirstOutputOffset = ModelGeometry.Cols * sizeof(float);

    private readonly EngineSession _session;
    private readonly StepCompletions _completions;
    private readonly SharedRegion _shared;
    private readonly ModelGeometry _geometry;
    private readonly uint _blocks;
    private uint _region;
    private uint _x;
    private uint _y;
    private uint _gemv;

    private SwapTenant(EngineSession session, StepCompletions completions, SharedRegion shared, ModelGeometry geometry, int multiprocessors)
    {
        _session = session;
        _completions = completions;
        _shared = shared;
        _geometry = geometry;
        // As BuiltinKernels.Gemv launches it: a warp per row, the grid capped near eight blocks per multiprocessor.
        const uint WarpsPerBlock = BuiltinKernels.BlockSize / 32;
        _blocks = Math.Clamp(((uint)geometry.Rows + WarpsPerBlock - 1) / WarpsPerBlock, 1, (uint)Math.Max(1, multiprocessors) * 8);
    }

    private ulong RowBytes => (ulong)_geometry.Rows * sizeof(float);

    private ulong LastOutputOffset => FirstOutputOffset + RowBytes;

    private ulong LastLayerYOffset => (ulong)(_geometry.Layers - 1) * RowBytes;

    /// <summary>A session for models of <paramref name="geometry"/>, with <paramref name="x"/> already on the device.</summary>
    public static async Task<SwapTenant> OpenAsync(GpuEngine engine, ModelGeometry geometry, float[] x)
    {
        var shared = SharedRegion.Create("gpumux-bench-region", FirstOutputOffset + (2 * (ulong)geometry.Rows * sizeof(float)));
        var completions = new StepCompletions();
        var tenant = new SwapTenant(engine.OpenSession(new SessionIdentity(0, 0, Environment.ProcessId, "GpuMux.Bench swap"), completions), completions, shared, geometry, engine.Device.MultiprocessorCount);
        try
        {
            await tenant.SetUpAsync(x).ConfigureAwait(false);
            return tenant;
        }
        catch
        {
            await tenant.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Registers <paramref name="model"/> with one layer per group; it must be staged in the pinned pool.</summary>
    public async Task<RegisteredModel> RegisterAsync(SyntheticModel model)
    {
        var groups = Enumerable.Repeat(1, model.Geometry.Layers).ToArray();
        var registration = await _session.RegisterModelAsync(model.OpenDescriptor(), model.Name, groups, progress: null).ConfigureAwait(false);
        if (registration.Tier != ModelTier.Pinned)
        {
            throw new InvalidOperationException($"model {model.Name} was staged in the {registration.Tier} tier, not in the pinned pool: swap-ins would stream from its file");
        }
        var layers = new uint[model.Geometry.Layers];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = (await _session.GetTensorAsync(registration.Model, SyntheticModel.LayerName(i)).ConfigureAwait(false)).Tensor;
        }
        return new RegisteredModel(model, registration, layers);
    }

    /// <summary>
    /// A step whose one launch reads the first row of the model's last layer: it waits for the
    /// whole swap-in (groups are copied in order) and computes next to nothing, so on an evicted
    /// model its device time is the swap-in's.
    /// </summary>
    public Task<StepSample> SwapInAsync(RegisteredModel model)
    {
        var step = _session.RentStep();
        step.UseModel(model.Registration.Model);
        GemvLaunch.Add(step, _gemv, model.Layers[^1], _x, _y, LastLayerYOffset, rows: 1, blocks: 1);
        step.AddCopyOut(_y, LastLayerYOffset, _region, LastOutputOffset, sizeof(float));
        return RunAsync(step, model.Model.Name, () => SameBits(Output(LastOutputOffset, 1), model.Model.LastLayerY.AsSpan(0, 1)));
    }

    /// <summary>A step of one gemv_f16 per layer, each waiting only for its own layer group, then both checked outputs copied out.</summary>
    public Task<StepSample> RunLayersAsync(RegisteredModel model)
    {
        var step = _session.RentStep();
        step.UseModel(model.Registration.Model);
        for (var layer = 0; layer < model.Layers.Length; layer++)
        {
            GemvLaunch.Add(step, _gemv, model.Layers[layer], _x, _y, (ulong)layer * RowBytes, (uint)_geometry.Rows, _blocks);
        }
        step.AddCopyOut(_y, 0, _region, FirstOutputOffset, RowBytes);
        step.AddCopyOut(_y, LastLayerYOffset, _region, LastOutputOffset, RowBytes);
        return RunAsync(step, model.Model.Name, () =>
            SameBits(Output(FirstOutputOffset, _geometry.Rows), model.Model.FirstLayerY)
            && SameBits(Output(LastOutputOffset, _geometry.Rows), model.Model.LastLayerY));
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync().ConfigureAwait(false);
        _shared.Dispose();
    }

    private async Task SetUpAsync(float[] x)
    {
        x.AsSpan().CopyTo(Region(0, x.Length));
        _region = await _session.RegisterRegionAsync(_shared.OpenDescriptor(), _shared.Bytes).ConfigureAwait(false);
        _x = await _session.AllocateBufferAsync(ModelGeometry.Cols * sizeof(float)).ConfigureAwait(false);
        _y = await _session.AllocateBufferAsync((ulong)_geometry.Layers * RowBytes).ConfigureAwait(false);
        _gemv = await _session.GetFunctionAsync(0, KernelNames.GemvF16).ConfigureAwait(false);
        var step = _session.RentStep();
        step.AddCopyIn(_region, 0, _x, 0, ModelGeometry.Cols * sizeof(float));
        await RunAsync(step, "setup", () => true).ConfigureAwait(false);
    }

    /// <summary>Submits the step with the output slots poisoned (all-ones bits, a NaN), so that only this step's results can pass.</summary>
    private async Task<StepSample> RunAsync(Step step, string model, Func<bool> verify)
    {
        MemoryMarshal.AsBytes(Region(FirstOutputOffset, (int)((_shared.Bytes - FirstOutputOffset) / sizeof(float)))).Fill(0xFF);
        _session.Submit(step);
        var completion = await _completions.NextAsync().ConfigureAwait(false);
        if (completion.Status != EngineError.None)
        {
            throw new EngineException(completion.Status, $"a step of {model} failed: {completion.Message}");
        }
        return new StepSample(model, completion.QueuedAtNs, completion.StartedAtNs, completion.EndedAtNs, verify());
    }

    // The kernel and the reference compute the same bits, so compare bits: -0 is not 0 here.
    private static bool SameBits(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected) =>
        MemoryMarshal.AsBytes(actual).SequenceEqual(MemoryMarshal.AsBytes(expected));

    private ReadOnlySpan<float> Output(ulong offset, int count) => Region(offset, count);

    private Span<float> Region(ulong offset, int count) => _shared.Slice<float>(offset, count);
}

/// <summary>A model registered in a <see cref="SwapTenant"/>'s session, with its layers' tensor handles in order.</summary>
internal sealed record RegisteredModel(SyntheticModel Model, ModelRegistration Registration, uint[] Layers);
