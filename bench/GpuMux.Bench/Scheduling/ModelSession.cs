using System.Runtime.InteropServices;
using GpuMux.Bench.Models;
using GpuMux.Engine;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// One model of the trace in a session of its own, running its decode steps in order, at most
/// <see cref="StepsSubmittedAtOnce"/> submitted at once, each with a result slot of its own. A
/// step is, per layer group, a one-row gemv_f16 over the group's weights (so the launch waits for
/// that group) and a spin kernel of the group's share of the step's time; then the gemv results
/// are copied out to the session's region and checked, bit for bit, against the host reference
/// for the first and last layers: no figure can come from a step that ran on weights not yet
/// landed, or on another model's.
/// </summary>
internal sealed class ModelSession : IAsyncDisposable
{
    /// <summary>The most decode steps of the model submitted and not yet completed.</summary>
    public const int StepsSubmittedAtOnce = 2;

    private const ulong InputBytes = ModelGeometry.Cols * sizeof(float);

    private readonly EngineSession _session;
    private readonly StepWaiters _waiters;
    private readonly SharedRegion _shared;
    private readonly SyntheticModel _model;
    private readonly SpinShape _shape;
    private readonly ulong[] _spinMicroseconds;
    private uint _region;
    private uint _buffer;
    private uint _gemv;
    private uint _spin;
    private uint _handle;
    private uint[] _layers = [];
    private int _wrongResults;
    private int _submittedSteps;

    private ModelSession(EngineSession session, StepWaiters waiters, SharedRegion shared, SyntheticModel model, SpinShape shape, int stepComputeMicroseconds)
    {
        _session = session;
        _waiters = waiters;
        _shared = shared;
        _model = model;
        _shape = shape;
        var groups = model.Geometry.Layers;
        _spinMicroseconds = [.. Enumerable.Range(0, groups).Select(g => (ulong)((stepComputeMicroseconds * (long)(g + 1) / groups) - (stepComputeMicroseconds * (long)g / groups)))];
    }

    /// <summary>The refusal, when the engine would not register the model (the Dedicated policy, with the pool full); null once registered.</summary>
    public string? Refusal { get; private set; }

    public int WrongResults => Volatile.Read(ref _wrongResults);

    private int Groups => _model.Geometry.Layers;

    private ulong ResultBytes => (ulong)Groups * sizeof(float);

    /// <summary>Opens the session under <paramref name="uid"/>, with a region for x and the results, and x on the device.</summary>
    public static async Task<ModelSession> OpenAsync(GpuEngine engine, SyntheticModel model, uint uid, float[] x, int stepComputeMicroseconds)
    {
        var shared = SharedRegion.Create($"gpumux-bench-{model.Name}", InputBytes + (StepsSubmittedAtOnce * (ulong)model.Geometry.Layers * sizeof(float)));
        var waiters = new StepWaiters();
        var identity = new SessionIdentity(uid, uid, Environment.ProcessId, $"GpuMux.Bench trace ({model.Name})");
        var session = new ModelSession(engine.OpenSession(identity, waiters), waiters, shared, model, SpinShape.FillingDevice(engine.Device), stepComputeMicroseconds);
        try
        {
            await session.SetUpAsync(x).ConfigureAwait(false);
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Registers the model, one layer per group; false, with <see cref="Refusal"/> set, when the engine has no room for it.</summary>
    public async Task<bool> RegisterAsync()
    {
        ModelRegistration registration;
        try
        {
            registration = await _session.RegisterModelAsync(_model.OpenDescriptor(), _model.Name, Enumerable.Repeat(1, Groups).ToArray(), progress: null).ConfigureAwait(false);
        }
        catch (EngineException e) when (e.Error == EngineError.OutOfMemory)
        {
            Refusal = e.Message;
            return false;
        }
        if (registration.Tier != ModelTier.Pinned)
        {
            throw new InvalidOperationException($"model {_model.Name} was staged in the {registration.Tier} tier, not in the pinned pool: swap-ins would stream from its file");
        }
        _handle = registration.Model;
        var layers = new uint[Groups];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = (await _session.GetTensorAsync(_handle, SyntheticModel.LayerName(i)).ConfigureAwait(false)).Tensor;
        }
        _layers = layers;
        return true;
    }

    /// <summary>One step, a request of its own, before the trace's window opens: it makes the model resident and touches its pages of the pool.</summary>
    public async Task WarmUpAsync() => (await RunStepAsync(deadlineNs: 0, endsRequest: true).ConfigureAwait(false)).ThrowIfFailed($"the warm-up step of {_model.Name}");

    /// <summary>Submits one decode step, due by <paramref name="deadlineNs"/> (0: none), and waits for it; at most <see cref="StepsSubmittedAtOnce"/> may be under way.</summary>
    public async Task<StepOutcome> RunStepAsync(long deadlineNs, bool endsRequest)
    {
        var slot = _submittedSteps++ % StepsSubmittedAtOnce;
        MemoryMarshal.AsBytes(Results(slot)).Fill(0xFF);
        var step = _session.RentStep();
        step.UseModel(_handle);
        if (deadlineNs != 0)
        {
            step.SetDeadline(deadlineNs, failIfLate: false);
        }
        for (var group = 0; group < Groups; group++)
        {
            GemvLaunch.Add(step, _gemv, _layers[group], _buffer, _buffer, InputBytes + ((ulong)group * sizeof(float)), rows: 1, blocks: 1);
            _shape.AddTo(step, _spin, _spinMicroseconds[group]);
        }
        step.AddCopyOut(_buffer, InputBytes, _region, InputBytes + ((ulong)slot * ResultBytes), ResultBytes);
        if (endsRequest)
        {
            step.EndRequest();
        }
        var outcome = await _waiters.SubmitAsync(_session, step).ConfigureAwait(false);
        if (outcome.Succeeded && !Matches(Results(slot)))
        {
            Interlocked.Increment(ref _wrongResults);
        }
        return outcome;
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync().ConfigureAwait(false);
        _shared.Dispose();
    }

    private async Task SetUpAsync(float[] x)
    {
        x.AsSpan().CopyTo(_shared.Slice<float>(0, x.Length));
        _region = await _session.RegisterRegionAsync(_shared.OpenDescriptor(), _shared.Bytes).ConfigureAwait(false);
        _buffer = await _session.AllocateBufferAsync(InputBytes + ResultBytes).ConfigureAwait(false);
        _gemv = await _session.GetFunctionAsync(0, KernelNames.GemvF16).ConfigureAwait(false);
        _spin = await _session.GetFunctionAsync(0, KernelNames.Spin).ConfigureAwait(false);
        var step = _session.RentStep();
        step.AddCopyIn(_region, 0, _buffer, 0, InputBytes);
        (await _waiters.SubmitAsync(_session, step).ConfigureAwait(false)).ThrowIfFailed($"copying x in for {_model.Name}");
    }

    // Row 0 of a layer's W·x is the same bits whether the gemv covers one row or all of them.
    private bool Matches(ReadOnlySpan<float> results) =>
        BitConverter.SingleToInt32Bits(results[0]) == BitConverter.SingleToInt32Bits(_model.FirstLayerY[0])
        && BitConverter.SingleToInt32Bits(results[^1]) == BitConverter.SingleToInt32Bits(_model.LastLayerY[0]);

    private Span<float> Results(int slot) => _shared.Slice<float>(InputBytes + ((ulong)slot * ResultBytes), Groups);
}
