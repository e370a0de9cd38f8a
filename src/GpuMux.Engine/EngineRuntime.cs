using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Faults;
using GpuMux.Engine.Memory;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Models;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;
using GpuMux.Engine.Threading;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine;

/// <summary>
/// The engine as the engine thread sees it: the device, the sessions, their models, the steps
/// on the device and those waiting to start. Every member runs on that thread, except
/// <see cref="RequestShutdown"/>.
/// </summary>
internal sealed class EngineRuntime
{
    // Faults met while putting waiting steps on a rebuilt device before the engine gives up on them.
    private const int MaxNestedRecoveries = 3;

    // A faulted context calls no host function, so with work on the device the thread looks this
    // often to see a fault (and a step past its class's time limit) without being woken.
    private static readonly TimeSpan DeviceRecheck = TimeSpan.FromMilliseconds(20);

    private const string ZeroedBuffersMessage = "the device was reset after a fault, and this session's buffers read as zero now: set them up again, then retry";

    private readonly GpuBackend _backend;
    private readonly EngineOptions _options;
    private readonly LoadedModule _builtins;
    private readonly StepExecutor _executor;
    private readonly ModelStore _models;
    private readonly BufferSpills _spills;
    private readonly StepDispatcher _dispatcher;
    private readonly PriorityClass[] _classes;
    private readonly StepLedger _ledger;
    private readonly StepScheduler _scheduler;
    private readonly TenantBook _tenants;
    private readonly Action<IEngineWork> _post;
    private readonly Action<string> _reportDeviceLost;
    private readonly DeviceRecovery _recovery;
    private readonly EngineMetrics _metrics;
    private readonly ILogger _engineLogger;
    private readonly ILogger _sessionLogger;
    private readonly ILogger _faultLogger;
    private readonly List<SessionState> _sessions = [];
    private readonly List<SessionState> _closing = [];
    private readonly List<SessionState> _spentLeases = [];
    private DeviceContext? _device;
    private string? _deviceLost;
    private volatile bool _shuttingDown;
    private bool _draining;
    private int _recoveries;
    private uint _lastLeaseId;

    // When time alone may let held or waiting steps go, as of the engine thread's last sleep.
    private long _timedChangeAtNs = long.MaxValue;

    private EngineRuntime(GpuBackend backend, EngineOptions options, DeviceContext device, LoadedModule builtins, ILoggerFactory loggers, Action<IEngineWork> post, Action<string> deviceLost, CompletionSignal completions)
    {
        _backend = backend;
        _options = options;
        _device = device;
        _builtins = builtins;
        _engineLogger = loggers.CreateLogger<GpuEngine>();
        _sessionLogger = loggers.CreateLogger<EngineSession>();
        _faultLogger = loggers.CreateLogger<DeviceRecovery>();
        _post = post;
        _reportDeviceLost = deviceLost;
        _classes = CreateClasses(options.Scheduling, device.Context.StreamPriorities);
        _metrics = new EngineMetrics(
            options.Meter ?? new System.Diagnostics.Metrics.Meter(GpuLabels.MeterName),
            backend.Devices[options.DeviceOrdinal],
            [.. _classes.Select(c => c.Name)]);
        _ledger = new StepLedger(_classes, _metrics);
        _executor = new StepExecutor(_sessionLogger, _ledger, _metrics);
        _spills = new BufferSpills(_sessions, _metrics);
        _models = new ModelStore(options, post, loggers.CreateLogger<ModelStore>(), _metrics, _spills);
        _dispatcher = new StepDispatcher(_executor, _models, _spills, options.MaxOpsPerStep);
        _scheduler = new StepScheduler(options.Scheduling, _classes, _dispatcher, _executor, _models);
        _tenants = new TenantBook(options.Tenants);
        _recovery = new DeviceRecovery(backend, options, builtins, completions, _faultLogger);
    }

    /// <summary>Work on the device the engine must watch: steps, swap-ins, reads into the bounce ring, releases waiting for queued work.</summary>
    public bool HasStepsInFlight => _executor.InFlight > 0 || _models.HasDeviceWork || (_device?.Releases.HasPending ?? false);

    /// <summary>Steps on the device to watch, or held steps and steps waiting for room, which may go when time passes.</summary>
    public bool NeedsPolling => HasStepsInFlight || _scheduler.Held > 0 || _dispatcher.HasWaiting;

    /// <summary>
    /// How long the engine thread may sleep when nothing is posted. Completions on the device and
    /// posts wake it, and held steps and steps waiting for room go only then, but for what time
    /// alone changes: a deadline, a model's turn ending. So the sleep lasts until the first of
    /// those, or the fault check's next look while work is on the device, or for good. Held and
    /// waiting steps are also looked at once a fault check's interval at the least, so that an
    /// edge nothing signals costs them that interval rather than their never going.
    /// </summary>
    public TimeSpan BeginWait()
    {
        _timedChangeAtNs = _scheduler.Held > 0 || _dispatcher.HasWaiting
            ? Math.Min(Math.Min(_scheduler.StuckUntilNs, _models.NextTurnEndNs()), MonotonicClock.NowNanoseconds() + (long)DeviceRecheck.TotalNanoseconds)
            : long.MaxValue;
        var limit = HasStepsInFlight ? DeviceRecheck : Timeout.InfiniteTimeSpan;
        if (_timedChangeAtNs == long.MaxValue)
        {
            return limit;
        }
        // Whole milliseconds, rounded up: the wait's resolution, and a wait rounded down to 0 would spin.
        var milliseconds = Math.Clamp((_timedChangeAtNs - MonotonicClock.NowNanoseconds() + 999_999) / 1_000_000, 1, int.MaxValue - 1);
        var untilChange = TimeSpan.FromMilliseconds(milliseconds);
        return limit == Timeout.InfiniteTimeSpan || untilChange < limit ? untilChange : limit;
    }

    /// <summary>True once the engine has been told to stop and its last steps have left the device.</summary>
    public bool IsDrained => _draining && !HasStepsInFlight && !_dispatcher.HasWaiting && _scheduler.Held == 0;

    /// <summary>
    /// Creates the context on the calling thread, which owns it from then on, takes the device
    /// pool, sets up the pinned pool, and loads the built-in kernels. <paramref name="post"/>
    /// queues work for this thread from others (reads of model files report through it).
    /// <paramref name="deviceLost"/> is told why, once, if the device cannot be set up again
    /// after a fault, when every step has been failed. <paramref name="completions"/> is what the
    /// thread sleeps on; work completing on the device sets it.
    /// </summary>
    public static EngineRuntime Start(GpuBackend backend, EngineOptions options, ILoggerFactory loggers, Action<IEngineWork> post, Action<string> deviceLost, CompletionSignal completions)
    {
        var device = DeviceContext.Create(backend, options.DeviceOrdinal, options, completions);
        LoadedModule? builtins = null;
        try
        {
            builtins = BuiltinModule.Load(device.Context);
            var runtime = new EngineRuntime(backend, options, device, builtins, loggers, post, deviceLost, completions);
            runtime._models.Start(device);
            EngineLog.Started(runtime._engineLogger, device.Context.Device.Name, backend.Description);
            return runtime;
        }
        catch
        {
            builtins?.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <summary>From any thread: from now on, steps fail with <see cref="EngineError.ShuttingDown"/> and nothing new is created.</summary>
    public void RequestShutdown() => _shuttingDown = true;

    /// <summary>Steps waiting to start fail now; those on the device finish.</summary>
    public void BeginDrain()
    {
        _draining = true;
        _scheduler.FailHeld(null, EngineError.ShuttingDown, "the engine is shutting down");
        _dispatcher.FailWaiting(null, EngineError.ShuttingDown, "the engine is shutting down");
    }

    /// <summary>
    /// Runs a request, turning failures into what the caller is told: an <see cref="EngineException"/>
    /// as it is; a sticky fault resets the device and asks for a retry (or, when the device is lost,
    /// says so); anything else is internal.
    /// </summary>
    public T Run<T>(Func<EngineRuntime, T> body)
    {
        try
        {
            return body(this);
        }
        catch (EngineException)
        {
            throw;
        }
        catch (GpuException e) when (e.IsContextFatal && _device is not null)
        {
            Recover(e);
            throw _device is null
                ? new EngineException(EngineError.DeviceLost, DeviceLostMessage, e)
                : new EngineException(EngineError.DeviceReset, $"the device was reset after a fault ({e.Status}); retry", e);
        }
        catch (Exception e)
        {
            EngineLog.RequestFailed(_engineLogger, e);
            throw new EngineException(EngineError.Internal, $"internal error: {e.Message}", e);
        }
    }

    public void Open(SessionState session)
    {
        var tenant = _tenants[session.Session.Identity.Uid];
        tenant.Sessions++;
        var defaultClass = _classes[_options.Scheduling.DefaultClassIndex];
        session.Open(tenant, defaultClass.Index, defaultClass.StreamPriority, _device);
        _sessions.Add(session);
        _metrics.SessionOpened();
        var identity = session.Session.Identity;
        SessionLog.Opened(_sessionLogger, session.Session.Id, identity.ClientName, identity.Pid, identity.Uid);
    }

    /// <summary>
    /// Fails the session's waiting steps, and releases everything it holds once its steps have
    /// left the device and the work queued on its stream has completed; the task completes then.
    /// </summary>
    public Task Close(SessionState session)
    {
        if (session.PendingClose is { } pending)
        {
            return pending.Task;
        }
        if (session.IsClosed)
        {
            // Closed by the engine's own shutdown.
            return Task.CompletedTask;
        }
        session.PendingClose = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (error, message) = session.Session.CloseReason;
        _scheduler.FailHeld(session, error, message);
        _dispatcher.FailWaiting(session, error, message);
        if (session.InFlight.Count == 0)
        {
            FinishClose(session);
        }
        else
        {
            SessionLog.CloseWaiting(_sessionLogger, session.Session.Id, session.InFlight.Count);
            _closing.Add(session);
        }
        return session.PendingClose.Task;
    }

    /// <summary>
    /// Pages of the device pool, evicting idle models and spilling idle spillable buffers if it
    /// has no room; within the session's limits and its tenant's. A <paramref name="spillable"/>
    /// buffer may itself be spilled while no step names it (see <see cref="BufferSpills"/>).
    /// </summary>
    public uint AllocateBuffer(SessionState session, ulong bytes, bool spillable = false)
    {
        var device = DeviceFor(session);
        session.ThrowUnlessBufferAllowed(bytes);
        var pool = device.Pool;
        var pages = RoundUp(bytes, pool.PageBytes);
        var tenant = session.Tenant;
        tenant.ThrowIfOverDevice(pages);
        var lease = session.Lease;
        if (lease is { Expired: true })
        {
            throw new EngineException(EngineError.LeaseExpired, lease.ExpiredMessage);
        }
        lease?.ThrowIfOverMemory(pages);
        var range = (pages <= pool.BudgetBytes ? _models.AllocateEvicting(device, bytes) : null)
            ?? throw new EngineException(
                EngineError.OutOfMemory,
                $"the device pool has no room for {bytes} more bytes ({pages} in whole pages): {pool.FreeBytes} of its {pool.BudgetBytes} bytes are free, after evicting every model and spilling every spillable buffer not in use");
        var handle = session.AddBuffer(device, new DeviceBuffer(bytes, pages, spillable) { Lease = lease, LastUsedNs = MonotonicClock.NowNanoseconds() }, range);
        tenant.DeviceBytes += pages;
        if (lease is not null)
        {
            lease.DeviceBytes += pages;
        }
        return handle;
    }

    public bool FreeBuffer(SessionState session, uint handle)
    {
        ThrowIfClosing(session);
        var buffer = session.BufferForRequest(handle);
        ReleaseInTurn(session, () => FreeBufferNow(session, buffer, handle), () => buffer.Releasing = true);
        return true;
    }

    private static void FreeBufferNow(SessionState session, DeviceBuffer buffer, uint handle)
    {
        var pages = session.FreeBuffer(handle);
        session.Tenant.DeviceBytes -= Math.Min(pages, session.Tenant.DeviceBytes);
        if (buffer.Lease is { } lease)
        {
            lease.DeviceBytes -= Math.Min(pages, lease.DeviceBytes);
        }
    }

    /// <summary>Maps and pins the client's file; the caller closes the descriptor afterwards.</summary>
    public uint RegisterRegion(SessionState session, SafeFileHandle descriptor, ulong length)
    {
        var device = DeviceFor(session);
        if (length == 0 || length > _options.MaxRegionBytes)
        {
            throw new EngineException(EngineError.InvalidArgument, $"a region must have between 1 and {_options.MaxRegionBytes} bytes, not {length}");
        }
        session.ThrowIfRegionsFull();
        return session.AddRegion(device.Context, SharedFileMapping.Map(descriptor, length));
    }

    public bool ReleaseRegion(SessionState session, uint handle)
    {
        ThrowIfClosing(session);
        var region = session.RegionForRequest(handle);
        ReleaseInTurn(session, () => session.ReleaseRegion(handle), () => region.Releasing = true);
        return true;
    }

    /// <summary>
    /// The first part of a module load: the tenant's right and the session's room are checked, and
    /// what a compile needs of the device is handed out, so that CUDA C compiles off this thread.
    /// </summary>
    public CompileTarget BeginModuleLoad(SessionState session)
    {
        var device = DeviceFor(session);
        ThrowUnlessModulesAllowed(session);
        session.ThrowIfModulesFull();
        return new CompileTarget(device.Context.Compiler, device.Context.Device.ComputeCapability);
    }

    /// <summary>
    /// The last part: loads the image into the context. The right and the room are checked again,
    /// since a reload of the tenant limits, or the session's other loads, may have changed them meanwhile.
    /// </summary>
    public ModuleLoadResult CompleteModuleLoad(SessionState session, string name, CompiledModule compiled)
    {
        var device = DeviceFor(session);
        ThrowUnlessModulesAllowed(session);
        session.ThrowIfModulesFull();
        return new ModuleLoadResult(session.AddModule(device.Context, name, compiled.Image), compiled.FromCache, compiled.Log);
    }

    /// <summary>A tenant without the trusted right runs module 0 and its models only: any module of its own could address every session's memory.</summary>
    private void ThrowUnlessModulesAllowed(SessionState session)
    {
        var tenant = session.Tenant;
        if (tenant.Limits.Kernels == KernelPolicy.Trusted)
        {
            return;
        }
        if (session.NoteModuleRefused())
        {
            SessionLog.ModuleRefused(_sessionLogger, session.Session.Id, tenant.Uid);
        }
        throw new EngineException(
            EngineError.PermissionDenied,
            $"uid {tenant.Uid} may run the built-in kernels and its registered models only: loading a module needs the tenant's Kernels to be trusted in the daemon's Tenants configuration");
    }

    public bool UnloadModule(SessionState session, uint handle)
    {
        ThrowIfClosing(session);
        var module = session.ModuleForRequest(handle);
        ReleaseInTurn(session, () => session.UnloadModule(handle), () => module.Releasing = true);
        return true;
    }

    public uint GetFunction(SessionState session, uint module, string name)
    {
        DeviceFor(session);
        return session.GetFunction(_builtins, module, name);
    }

    /// <summary>
    /// The first part of a registration on the engine thread, once the header is read: holds the
    /// name, refuses a model larger than the device pool, and decides where it is staged (taking
    /// a slice of the pinned pool for it if there is room).
    /// </summary>
    public (ModelTier Tier, PinnedSlice? Slice) BeginModelRegistration(SessionState session, string name, ModelLayout layout)
    {
        var device = DeviceFor(session);
        session.ReserveModelName(name);
        try
        {
            return _models.PlanStaging(device, name, layout.DataBytes);
        }
        catch
        {
            session.ForgetModelName(name);
            throw;
        }
    }

    /// <summary>The last part, once the weights are staged: reserves the model's range and gives it its handle. Takes <paramref name="file"/> only if it succeeds.</summary>
    public ModelRegistration CompleteModelRegistration(SessionState session, string name, ModelLayout layout, ModelTier tier, PinnedSlice? slice, SafeFileHandle? file)
    {
        var device = DeviceFor(session);
        var model = new Model(session, name, layout, tier, slice, file);
        var handle = _models.Register(session, model, device);
        return new ModelRegistration(handle, layout.TensorCount, layout.DataBytes, tier, layout.GroupCount);
    }

    /// <summary>Undoes <see cref="BeginModelRegistration"/> after a failure or a cancellation.</summary>
    public bool AbandonModelRegistration(SessionState session, string name, PinnedSlice? slice)
    {
        session.ForgetModelName(name);
        if (slice is { } taken)
        {
            _models.Pinned?.Free(taken);
        }
        return true;
    }

    /// <summary>Unregisters a model once the session's steps queued before the request have started; its memory goes once its steps are done.</summary>
    public bool UnregisterModel(SessionState session, uint handle)
    {
        ThrowIfClosing(session);
        var model = session.ModelForRequest(handle);
        ReleaseInTurn(session, () => _models.Remove(session.RemoveModel(handle)), () => model.Releasing = true);
        return true;
    }

    public TensorInfo GetTensor(SessionState session, uint handle, string name)
    {
        ThrowIfClosing(session);
        var model = session.ModelForRequest(handle);
        if (!model.Layout.TryFind(name, out var index))
        {
            throw new EngineException(EngineError.UnknownTensor, $"model {handle} ({model.Name}) has no tensor named {name}");
        }
        return new TensorInfo(model.FirstTensor + (uint)index, model.Layout.BytesOf(index), model.Layout.GroupOf(index));
    }

    /// <summary>Gives the session a lease, within its tenant's limits, and moves it to the lease's class.</summary>
    public LeaseStatus AcquireLease(SessionState session, LeaseRequest request)
    {
        DeviceFor(session);
        if (session.Lease is { } held)
        {
            throw new EngineException(EngineError.InvalidArgument, $"the session already holds lease {held.Id}; release it first");
        }
        var scheduling = _options.Scheduling;
        var className = request.Class ?? scheduling.DefaultClass;
        var classIndex = scheduling.IndexOf(className);
        if (classIndex < 0)
        {
            throw new EngineException(EngineError.InvalidArgument, $"there is no priority class {className}; the classes are {string.Join(", ", _classes.Select(c => c.Name))}");
        }
        if (!IsBudget(request.MaxGpuTime) || !IsBudget(request.MaxDuration))
        {
            throw new EngineException(
                EngineError.InvalidArgument,
                $"a lease's GPU time and duration must each be positive and at most {LeaseRequest.MaxBudget.TotalMilliseconds} ms where given");
        }
        var tenant = session.Tenant;
        var limits = tenant.Limits;
        if (limits.HighestClass is { } highest && classIndex < scheduling.IndexOf(highest))
        {
            throw new EngineException(EngineError.QuotaExceeded, $"uid {tenant.Uid} may lease classes up to {highest}, not {className}");
        }
        if (limits.MaxLeases != 0 && tenant.Leases >= limits.MaxLeases)
        {
            throw new EngineException(EngineError.QuotaExceeded, $"uid {tenant.Uid} already holds {tenant.Leases} leases, the most it may");
        }
        var lease = new Lease(++_lastLeaseId, classIndex, className, request, MonotonicClock.NowNanoseconds());
        tenant.Leases++;
        session.Lease = lease;
        _scheduler.ChangeClass(session, classIndex);
        if (request.MaxDuration is { } duration)
        {
            lease.EndTimer = TimeProvider.System.CreateTimer(_ => _post(new LeaseEnd(session, lease)), null, duration, Timeout.InfiniteTimeSpan);
        }
        SessionLog.LeaseAcquired(_sessionLogger, session.Session.Id, lease.Id, className);
        return lease.Snapshot();
    }

    private static bool IsBudget(TimeSpan? budget) => budget is not { } time || (time > TimeSpan.Zero && time <= LeaseRequest.MaxBudget);

    /// <summary>Ends the session's lease; its buffers stay the session's, and the session returns to the default class.</summary>
    public bool ReleaseLease(SessionState session)
    {
        ThrowIfClosing(session);
        var lease = session.Lease ?? throw new EngineException(EngineError.InvalidArgument, "the session holds no lease");
        EndLease(session, lease);
        return true;
    }

    public LeaseStatus? GetLease(SessionState session)
    {
        ThrowIfClosing(session);
        return session.Lease?.Snapshot();
    }

    /// <summary>
    /// A lease has run out: the session's held and waiting steps fail, its buffers allocated under
    /// the lease are freed (once steps using them are done), and its later steps fail until it
    /// releases the lease.
    /// </summary>
    public void ExpireLease(SessionState session, Lease lease)
    {
        if (lease.Expired || session.Lease != lease || session.IsClosed)
        {
            return;
        }
        lease.Expired = true;
        lease.EndTimer?.Dispose();
        var message = lease.ExpiredMessage;
        _scheduler.FailHeld(session, EngineError.LeaseExpired, message);
        _dispatcher.FailWaiting(session, EngineError.LeaseExpired, message);
        foreach (var (handle, buffer) in session.Buffers.Entries.ToArray())
        {
            if (buffer.Lease == lease && !buffer.Releasing)
            {
                FreeBufferNow(session, buffer, handle);
            }
        }
        _metrics.LeaseExpired();
        SessionLog.LeaseExpired(_sessionLogger, session.Session.Id, lease.Id, lease.UsedGpuNs / 1e9);
    }

    public IReadOnlyList<TenantStatus> GetTenants() => _tenants.Snapshot(MonotonicClock.NowNanoseconds());

    public bool UpdateTenantLimits(TenantLimitsOptions limits)
    {
        _tenants.Update(limits);
        EngineLog.TenantLimitsUpdated(_engineLogger, limits.ByUid.Count);
        return true;
    }

    public IReadOnlyList<ModelStatus> GetModels() => [.. _models.Snapshot()];

    public EngineStatus GetStatus()
    {
        var info = _backend.Devices[_options.DeviceOrdinal];
        var memory = _device?.Context.GetMemoryInfo() ?? new DeviceMemoryInfo(0, info.TotalMemoryBytes);
        var sessions = new SessionStatus[_sessions.Count];
        ulong sessionBytes = 0;
        for (var i = 0; i < sessions.Length; i++)
        {
            sessions[i] = _sessions[i].Snapshot(_classes[_sessions[i].ClassIndex].Name);
            sessionBytes += sessions[i].BufferBytes;
        }
        var pool = _device?.Pool;
        var pinned = _models.Pinned;
        return new EngineStatus(
            _backend.Kind,
            info,
            memory.FreeBytes,
            memory.TotalBytes,
            sessionBytes,
            sessions,
            pool?.BudgetBytes ?? 0,
            pool?.FreeBytes ?? 0,
            pinned?.BudgetBytes ?? 0,
            pinned?.FreeBytes ?? 0,
            _options.Scheduling.Policy,
            ClassSnapshots(),
            _spills.Snapshot());
    }

    /// <summary>A step taken from the queue: refused, failed by validation, issued to the device, or left waiting to start.</summary>
    public void Submit(Step step)
    {
        var owner = step.Owner!;
        var session = owner.State;
        if (session.IsClosed)
        {
            // Submitted while its own session was closing: nobody is left to tell.
            owner.Retire(step);
            return;
        }
        var (refusal, message) =
            step.RejectedAsTooManyInFlight ? (EngineError.TooManyInFlight, $"the session already has {_options.MaxInFlightStepsPerSession} steps submitted and not completed")
            : _shuttingDown ? (EngineError.ShuttingDown, "the engine is shutting down")
            : owner.IsClosing ? owner.CloseReason
            : _device is null ? (EngineError.DeviceLost, DeviceLostMessage)
            : session.ResetUntold ? (EngineError.DeviceReset, ZeroedBuffersMessage)
            : (EngineError.None, null);
        if (refusal == EngineError.DeviceReset)
        {
            session.ResetUntold = false;
        }
        if (refusal != EngineError.None)
        {
            _executor.FailUnrun(step, session, refusal, message);
            return;
        }
        try
        {
            _scheduler.Enqueue(step, session, _device!);
        }
        catch (GpuException e)
        {
            Recover(e);
        }
    }

    /// <summary>Delivers completed steps and notes landed swap-ins, then tries waiting steps; returns how many steps completed (or failed with a reset).</summary>
    public int Poll()
    {
        if (_device is null || !NeedsPolling)
        {
            return 0;
        }
        var completed = 0;
        try
        {
            completed = _executor.Poll(_device);
            if (_executor.FindOverrun(MonotonicClock.NowNanoseconds(), out var alone) is { } overran)
            {
                var fault = TimedOut(overran, alone);
                FaultLog.StepTimedOut(_faultLogger, overran.RequestId, overran.Owner!.Id, fault.Message);
                completed += _executor.InFlight;
                Recover(fault, alone ? overran : null);
                return completed;
            }
            var changed = _models.Poll() | _device.Releases.ReleaseCompleted();
            if (completed > 0)
            {
                FinishIdleCloses();
            }
            ExpireSpentLeases();
            if (completed > 0 || changed || !HasStepsInFlight || MonotonicClock.NowNanoseconds() >= _timedChangeAtNs)
            {
                _dispatcher.Pump(_device);
                _scheduler.Pump(_device);
            }
        }
        catch (GpuException e)
        {
            // An event query fails only when the context is broken, whatever the status says.
            completed += _executor.InFlight;
            Recover(e);
        }
        return completed;
    }

    /// <summary>A chunk of a File-tier model has been read into a bounce buffer (or could not be).</summary>
    public void OnChunkRead(BounceStreaming.ChunkRead read)
    {
        try
        {
            _models.OnChunkRead(read);
            if (_device is not null)
            {
                _dispatcher.Pump(_device);
                _scheduler.Pump(_device);
            }
        }
        catch (GpuException e) when (_device is not null)
        {
            Recover(e);
        }
    }

    /// <summary>
    /// At shutdown, once no steps are on the device: every session's holdings, the models' pools,
    /// then the device, which finishes the work queued on it before what waits for that work is
    /// released (or, broken, is destroyed first).
    /// </summary>
    public void ReleaseEverything()
    {
        foreach (var session in _sessions.ToArray())
        {
            if (session.IsClosed)
            {
                continue;
            }
            try
            {
                FinishClose(session);
            }
            catch (GpuException)
            {
                // The context broke at the last moment; its releases wait for its destruction below.
                _device?.MarkFaulted();
            }
        }
        _models.Dispose();
        _builtins.Dispose();
        if (_device is { } device)
        {
            _device = null;
            device.Dispose();
            device.Releases.ReleaseAll();
        }
    }

    private static PriorityClass[] CreateClasses(SchedulingOptions scheduling, StreamPriorityRange priorities)
    {
        var classes = scheduling.Classes;
        var result = new PriorityClass[classes.Count];
        for (var i = 0; i < result.Length; i++)
        {
            // Spread over the device's range, the first class at its greatest priority and the last at its least.
            var step = result.Length == 1 ? 0 : (double)(priorities.Least - priorities.Greatest) * i / (result.Length - 1);
            result[i] = new PriorityClass(i, classes[i], priorities.Greatest + (int)Math.Round(step), scheduling.ShareWindow);
        }
        return result;
    }

    private ClassStatus[] ClassSnapshots()
    {
        var now = MonotonicClock.NowNanoseconds();
        var total = _classes.Sum(c => c.Share.ValueAt(now));
        return [.. _classes.Select(c => c.Snapshot(total == 0 ? 0 : c.Share.ValueAt(now) / total))];
    }

    private void ExpireSpentLeases()
    {
        if (!_ledger.HasSpentLeases)
        {
            return;
        }
        _ledger.TakeSpentLeases(_spentLeases);
        foreach (var session in _spentLeases)
        {
            if (session.Lease is { } lease)
            {
                ExpireLease(session, lease);
            }
        }
        _spentLeases.Clear();
    }

    private void EndLease(SessionState session, Lease lease)
    {
        lease.EndTimer?.Dispose();
        session.Tenant.Leases--;
        session.Lease = null;
        foreach (var buffer in session.Buffers.Values)
        {
            if (buffer.Lease == lease)
            {
                buffer.Lease = null;
            }
        }
        if (!session.IsClosed)
        {
            _scheduler.ChangeClass(session, _options.Scheduling.DefaultClassIndex);
        }
        SessionLog.LeaseReleased(_sessionLogger, session.Session.Id, lease.Id);
    }

    private string DeviceLostMessage => $"the device is lost: after a fault it could not be set up again ({_deviceLost}); what the session held is gone, and nothing runs until the engine restarts";

    /// <summary>Whole units holding <paramref name="bytes"/>; a size too close to the largest number to round up stays past every limit rather than wrapping to nothing.</summary>
    private static ulong RoundUp(ulong bytes, ulong unit) => bytes > ulong.MaxValue - (unit - 1) ? ulong.MaxValue : (bytes + unit - 1) / unit * unit;

    /// <summary>The fault the device is reset for when a step has been on it past its class's time limit: pinned on the step when it was alone there.</summary>
    private GpuException TimedOut(Step step, bool alone)
    {
        var priorityClass = _classes[step.ClassIndex];
        return new GpuException(
            GpuStatus.LaunchTimeout,
            $"{(alone ? "the step" : "a step")} was on the device for more than the limit of class {priorityClass.Name} ({priorityClass.MaxStepNs / 1e9:0.###} s)");
    }

    /// <summary>Runs a release now (and tries the waiting steps, which the memory may help) or, marked, behind the session's waiting steps.</summary>
    private void ReleaseInTurn(SessionState session, Action release, Action mark)
    {
        if (_scheduler.DeferRelease(session, release) || _dispatcher.ReleaseAfterWaitingSteps(session, release))
        {
            mark();
        }
        else if (_device is not null)
        {
            if (_dispatcher.HasWaiting)
            {
                _dispatcher.Pump(_device);
            }
            _scheduler.Pump(_device);
        }
    }

    /// <summary>
    /// Replaces a context a sticky fault has poisoned, or that a step past its time limit holds
    /// with a kernel only a reset will end (pinned on <paramref name="culprit"/> when it is known):
    /// takes the steps off it, lets everything on it go, makes it all again on a new one (models
    /// become non-resident, their ranges reserved again), fails the steps that were on it, and
    /// puts the steps waiting to start on the new device. When no new device can be made, the
    /// device is lost: every step fails, and the engine says so.
    /// </summary>
    private void Recover(GpuException fault, Step? culprit = null)
    {
        var broken = _device!;
        broken.MarkFaulted();
        var faulted = _executor.TakeAfterFault(fault, _dispatcher.TakeIssuing(), broken, culprit);
        _dispatcher.AfterFault();
        FaultLog.DeviceFaulted(_faultLogger, fault.Status, faulted.Suspects, fault.Message);
        _metrics.DeviceFaulted(fault.Status);
        _models.DetachFromDevice();
        _device = _recovery.Rebuild(broken, _sessions, _models, out _deviceLost);
        _metrics.Rebuilt(lost: _device is null);
        // Failed only now, since what they are told depends on whether the device came back;
        // closing sessions finish once they are, so a session's close follows its last completion.
        _executor.FailFaulted(faulted, _deviceLost);
        FinishIdleCloses();
        if (_device is null)
        {
            _scheduler.FailHeld(null, EngineError.DeviceLost, DeviceLostMessage);
            _dispatcher.FailWaiting(null, EngineError.DeviceLost, DeviceLostMessage);
            _reportDeviceLost(_deviceLost!);
            return;
        }
        TellOfZeroedBuffers(faulted);
        if (!_dispatcher.HasWaiting && _scheduler.Held == 0)
        {
            return;
        }
        if (_recoveries >= MaxNestedRecoveries)
        {
            _scheduler.FailHeld(null, EngineError.DeviceReset, "the device faulted again and again while these steps were being started; retry");
            _dispatcher.FailWaiting(null, EngineError.DeviceReset, "the device faulted again and again while these steps were being started; retry");
            return;
        }
        _recoveries++;
        try
        {
            _dispatcher.Pump(_device);
            _scheduler.Pump(_device);
        }
        catch (GpuException again)
        {
            Recover(again);
        }
        finally
        {
            _recoveries--;
        }
    }

    /// <summary>
    /// A reset zeroes every session's buffers, and a session that keeps state in them (a KV
    /// cache) would go on computing on zeros, each step told it succeeded. So each session that
    /// holds buffers is told once, with <see cref="EngineError.DeviceReset"/>: its steps that were
    /// on the device have been; its steps held or waiting to start, sent counting on what its
    /// buffers held, fail now; a session that had neither fails its next step.
    /// </summary>
    private void TellOfZeroedBuffers(FaultedSteps faulted)
    {
        foreach (var session in _sessions)
        {
            if (session.IsClosed || session.Buffers.Count == 0)
            {
                continue;
            }
            var told = faulted.Steps.Exists(entry => entry.Session == session);
            if (session.Held.Count > 0 || session.Waiting.Any(entry => entry.Step is not null))
            {
                _scheduler.FailHeld(session, EngineError.DeviceReset, ZeroedBuffersMessage);
                _dispatcher.FailWaiting(session, EngineError.DeviceReset, ZeroedBuffersMessage);
                told = true;
            }
            session.ResetUntold = !told;
        }
    }

    private DeviceContext DeviceFor(SessionState session)
    {
        ThrowIfClosing(session);
        if (_shuttingDown)
        {
            throw new EngineException(EngineError.ShuttingDown, "the engine is shutting down");
        }
        return _device ?? throw new EngineException(EngineError.DeviceLost, DeviceLostMessage);
    }

    private static void ThrowIfClosing(SessionState session)
    {
        if (session.IsClosed || session.Session.IsClosing)
        {
            throw new EngineException(EngineError.ShuttingDown, $"session {session.Session.Id} is closing");
        }
    }

    private void FinishIdleCloses()
    {
        for (var i = _closing.Count - 1; i >= 0; i--)
        {
            if (_closing[i].InFlight.Count == 0)
            {
                FinishClose(_closing[i]);
            }
        }
    }

    private void FinishClose(SessionState session)
    {
        foreach (var model in session.Models.Values.ToArray())
        {
            _models.Remove(model);
        }
        var tenant = session.Tenant;
        tenant.DeviceBytes -= Math.Min(session.BufferPoolBytes, tenant.DeviceBytes);
        tenant.Sessions--;
        if (session.Lease is { } lease)
        {
            EndLease(session, lease);
        }
        _closing.Remove(session);
        session.Close(() =>
        {
            _sessions.Remove(session);
            session.PendingClose?.TrySetResult();
            var identity = session.Session.Identity;
            SessionLog.Closed(_sessionLogger, session.Session.Id, identity.ClientName, identity.Pid, identity.Uid, session.StepsCompleted, session.StepsFailed);
        });
    }
}
