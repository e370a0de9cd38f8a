using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Memory;
using GpuMux.Engine.Models;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;
using GpuMux.Engine.Threading;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine;

/// <summary>
/// One client's share of the engine: its buffers, regions, modules and functions, each named by
/// a handle valid only within the session, and the steps it submits. Requests complete with an
/// <see cref="EngineException"/> for expected failures; steps report through the completion
/// sink. Disposing the session frees all it holds.
/// </summary>
public sealed class EngineSession : IAsyncDisposable
{
    private readonly EngineThread _thread;
    private readonly StepPool _steps;
    private readonly EngineOptions _options;
    private readonly CompileSlots _compiles;
    private readonly Lock _closeGate = new();
    private Task? _close;
    private int _outstanding;
    private volatile bool _closing;

    internal EngineSession(long id, SessionIdentity identity, IStepCompletionSink sink, EngineThread thread, StepPool steps, CompileSlots compiles, EngineOptions options)
    {
        Id = id;
        Identity = identity;
        Sink = sink;
        _thread = thread;
        _steps = steps;
        _compiles = compiles;
        _options = options;
        State = new SessionState(this, options);
    }

    public long Id { get; }

    public SessionIdentity Identity { get; }

    internal IStepCompletionSink Sink { get; }

    internal SessionState State { get; }

    internal bool IsClosing => _closing;

    /// <summary>What the session's steps that have not run are failed with once it is closing.</summary>
    internal (EngineError Error, string Message) CloseReason { get; private set; } = (EngineError.ShuttingDown, "the session is closing");

    /// <summary>Steps submitted whose completion has not been delivered yet.</summary>
    internal int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>
    /// Maps <paramref name="length"/> bytes of the client's file (a memfd, usually) shared and
    /// read-write, and pins them for DMA. The engine takes <paramref name="descriptor"/> and
    /// closes it, whatever the outcome.
    /// </summary>
    public async Task<uint> RegisterRegionAsync(SafeFileHandle descriptor, ulong length, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        try
        {
            return await _thread.Invoke(runtime => runtime.RegisterRegion(State, descriptor, length), ct).ConfigureAwait(false);
        }
        finally
        {
            descriptor.Dispose();
        }
    }

    public Task ReleaseRegionAsync(uint region, CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.ReleaseRegion(State, region), ct);

    /// <summary>Zeroed device memory of <paramref name="bytes"/>.</summary>
    public Task<uint> AllocateBufferAsync(ulong bytes, CancellationToken ct = default) => AllocateBufferAsync(bytes, spillable: false, ct);

    /// <summary>Zeroed device memory of <paramref name="bytes"/>, which the engine may spill to host memory while no step names it when <paramref name="spillable"/>.</summary>
    public Task<uint> AllocateBufferAsync(ulong bytes, bool spillable, CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.AllocateBuffer(State, bytes, spillable), ct);

    /// <summary>Frees a buffer; steps already submitted that use it still run, and the memory goes once they have.</summary>
    public Task FreeBufferAsync(uint buffer, CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.FreeBuffer(State, buffer), ct);

    /// <summary>
    /// Loads a module, if the session's tenant may (<see cref="Tenants.KernelPolicy.Trusted"/>):
    /// CUDA C is compiled for the device through the disk cache, off the engine thread and within
    /// <see cref="EngineOptions.MaxConcurrentCompilesPerTenant"/>, so that no step waits for it;
    /// PTX and cubin are loaded as they are. <paramref name="image"/> is read before the task completes.
    /// </summary>
    public Task<ModuleLoadResult> LoadModuleAsync(ModuleFormat format, string name, ReadOnlyMemory<byte> image, CancellationToken ct = default) =>
        LoadModuleAsync(format, name, () => image, ct);

    /// <summary>
    /// The same, with the image read by <paramref name="readImage"/> only once the session may load
    /// a module and has room for one: a tenant refused reads nothing, however large its file.
    /// </summary>
    public async Task<ModuleLoadResult> LoadModuleAsync(ModuleFormat format, string name, Func<ReadOnlyMemory<byte>> readImage, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(readImage);
        var moduleName = name.Length == 0 ? "module" : name;
        var target = await _thread.Invoke(runtime => runtime.BeginModuleLoad(State), ct).ConfigureAwait(false);
        var image = readImage();
        var compiled = ModuleImages.AsIs(format, moduleName, image)
            ?? await _compiles.RunAsync(Identity.Uid, () => ModuleImages.Compile(target, moduleName, image), ct).ConfigureAwait(false);
        return await _thread.Invoke(runtime => runtime.CompleteModuleLoad(State, moduleName, compiled), ct).ConfigureAwait(false);
    }

    /// <summary>Unloads a module and forgets its functions' handles; module 0, the built-ins, stays.</summary>
    public Task UnloadModuleAsync(uint module, CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.UnloadModule(State, module), ct);

    /// <summary>The handle of kernel <paramref name="name"/> in <paramref name="module"/> (0 for the built-ins).</summary>
    public Task<uint> GetFunctionAsync(uint module, string name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _thread.Invoke(runtime => runtime.GetFunction(State, module, name), ct);
    }

    /// <summary>
    /// Registers the safetensors file open at <paramref name="file"/> (a file the client opened,
    /// or a memfd holding one) as a model named <paramref name="name"/>, unique in the session.
    /// The header is read and checked off the engine thread; then the weights are staged: copied
    /// into the pinned pool if it has room (<see cref="ModelTier.Pinned"/>, with
    /// <paramref name="progress"/> told after each read, and the file closed), or else left in
    /// the file, which the engine keeps open and streams from at each swap-in
    /// (<see cref="ModelTier.File"/>). The model is not resident until a step needs it. Its
    /// tensors, in file order, are swapped in by layer groups of
    /// <paramref name="groupTensorCounts"/> tensors each (positive, summing to the tensor
    /// count), or of <see cref="EngineOptions.LayerGroupTensors"/>. The engine takes
    /// <paramref name="file"/>, whatever the outcome.
    /// </summary>
    public async Task<ModelRegistration> RegisterModelAsync(
        SafeFileHandle file,
        string name,
        IReadOnlyList<int>? groupTensorCounts,
        IProgress<ModelStagingProgress>? progress,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var fileTaken = false;
        try
        {
            ArgumentNullException.ThrowIfNull(name);
            int[]? groups = groupTensorCounts is null ? null : [.. groupTensorCounts];
            var layout = await Task.Run(() => ModelFiles.ReadLayout(file, _options.MaxModelHeaderBytes, groups, _options.LayerGroupTensors), ct).ConfigureAwait(false);
            var (tier, slice) = await _thread.Invoke(runtime => runtime.BeginModelRegistration(State, name, layout), ct).ConfigureAwait(false);
            try
            {
                if (slice is { } staging)
                {
                    await Task.Run(() => ModelFiles.Stage(file, layout, staging, progress, ct), ct).ConfigureAwait(false);
                }
                ct.ThrowIfCancellationRequested();
                var keep = tier == ModelTier.File ? file : null;
                var registration = await _thread.Invoke(runtime => runtime.CompleteModelRegistration(State, name, layout, tier, slice, keep), CancellationToken.None).ConfigureAwait(false);
                fileTaken = keep is not null;
                return registration;
            }
            catch
            {
                await AbandonRegistrationAsync(name, slice).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            if (!fileTaken)
            {
                file.Dispose();
            }
        }
    }

    /// <summary>
    /// Unregisters a model. Steps submitted before still run with it; its device memory and its
    /// staged weights go once they have.
    /// </summary>
    public Task UnregisterModelAsync(uint model, CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.UnregisterModel(State, model), ct);

    /// <summary>The handle, size and layer group of the tensor named <paramref name="name"/> of <paramref name="model"/>.</summary>
    public Task<TensorInfo> GetTensorAsync(uint model, string name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _thread.Invoke(runtime => runtime.GetTensor(State, model, name), ct);
    }

    /// <summary>
    /// Takes a lease: the session's steps run in its class and draw device time from it, and
    /// buffers allocated under it count against its memory. When it runs out, queued steps fail
    /// with <see cref="EngineError.LeaseExpired"/> and its buffers are freed. A session holds at
    /// most one; <see cref="EngineError.QuotaExceeded"/> when the tenant holds as many as it may.
    /// </summary>
    public Task<LeaseStatus> AcquireLeaseAsync(LeaseRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _thread.Invoke(runtime => runtime.AcquireLease(State, request), ct);
    }

    /// <summary>Gives the lease back (expired or not); buffers allocated under it stay the session's.</summary>
    public Task ReleaseLeaseAsync(CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.ReleaseLease(State), ct);

    /// <summary>The session's lease; null when it holds none.</summary>
    public Task<LeaseStatus?> GetLeaseAsync(CancellationToken ct = default) =>
        _thread.Invoke(runtime => runtime.GetLease(State), ct);

    public Step RentStep() => _steps.Rent(this, _options.MaxOpsPerStep);

    /// <summary>
    /// Queues a step rented from this session and filled. Never blocks, and never fails for the
    /// step's sake: every outcome, refusals included, arrives through the completion sink.
    /// Throws only for misuse (a step not rented from this session, or submitted twice) or
    /// after the session or the engine was disposed.
    /// </summary>
    public void Submit(Step step)
    {
        ArgumentNullException.ThrowIfNull(step);
        ObjectDisposedException.ThrowIf(_closing || _thread.HasExited, this);
        var refused = Interlocked.Increment(ref _outstanding) > _options.MaxInFlightStepsPerSession;
        try
        {
            step.MarkSubmitted(this, MonotonicClock.NowNanoseconds(), refused);
        }
        catch
        {
            Interlocked.Decrement(ref _outstanding);
            throw;
        }
        _thread.Post(step);
    }

    /// <summary>
    /// Closes the session: steps still queued fail with <see cref="EngineError.ShuttingDown"/>,
    /// steps on the device finish (their completions are delivered), then every buffer, region
    /// and module is released.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_closeGate)
        {
            if (_close is null)
            {
                _closing = true;
                _close = CloseAsync();
            }
            return new ValueTask(_close);
        }
    }

    /// <summary>
    /// Closes the session because its client broke the protocol, as <see cref="DisposeAsync"/>
    /// does, except that its steps that have not run fail with
    /// <see cref="EngineError.ProtocolViolation"/>, saying why, rather than as if the daemon stopped.
    /// </summary>
    public ValueTask CloseForViolationAsync(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        lock (_closeGate)
        {
            if (_close is null)
            {
                CloseReason = (EngineError.ProtocolViolation, $"the session was closed for its protocol violation: {reason}");
            }
        }
        return DisposeAsync();
    }

    /// <summary>The step's completion has been delivered, or nobody is left to deliver it to.</summary>
    internal void Retire(Step step)
    {
        Interlocked.Decrement(ref _outstanding);
        _steps.Return(step);
    }

    private async Task AbandonRegistrationAsync(string name, PinnedSlice? slice)
    {
        try
        {
            await _thread.Invoke(runtime => runtime.AbandonModelRegistration(State, name, slice), CancellationToken.None).ConfigureAwait(false);
        }
        catch (EngineException e) when (e.Error == EngineError.ShuttingDown)
        {
            // The engine stopped, and let go of the pinned pool with everything in it.
        }
    }

    private async Task CloseAsync()
    {
        try
        {
            var released = await _thread.Invoke(runtime => runtime.Close(State), CancellationToken.None).ConfigureAwait(false);
            await released.ConfigureAwait(false);
        }
        catch (EngineException e) when (e.Error == EngineError.ShuttingDown)
        {
            // The engine stopped first, and released everything the session held.
        }
    }
}
