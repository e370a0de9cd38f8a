using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Faults;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Threading;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine;

/// <summary>
/// The engine as the engine thread sees it: the device, the sessions, the steps on the device.
/// Every member runs on that thread, except <see cref="RequestShutdown"/>.
/// </summary>
internal sealed class EngineRuntime
{
    private readonly GpuBackend _backend;
    private readonly EngineOptions _options;
    private readonly LoadedModule _builtins;
    private readonly StepExecutor _executor;
    private readonly DeviceRecovery _recovery;
    private readonly ILogger _engineLogger;
    private readonly ILogger _sessionLogger;
    private readonly ILogger _faultLogger;
    private readonly List<SessionState> _sessions = [];
    private readonly List<SessionState> _closing = [];
    private DeviceContext? _device;
    private string? _deviceLost;
    private volatile bool _shuttingDown;
    private bool _draining;

    private EngineRuntime(GpuBackend backend, EngineOptions options, DeviceContext device, LoadedModule builtins, ILoggerFactory loggers)
    {
        _backend = backend;
        _options = options;
        _device = device;
        _builtins = builtins;
        _engineLogger = loggers.CreateLogger<GpuEngine>();
        _sessionLogger = loggers.CreateLogger<EngineSession>();
        _faultLogger = loggers.CreateLogger<DeviceRecovery>();
        _executor = new StepExecutor(options, _sessionLogger);
        _recovery = new DeviceRecovery(backend, options.DeviceOrdinal, builtins, _faultLogger);
    }

    public bool HasStepsInFlight => _executor.InFlight > 0;

    /// <summary>True once the engine has been told to stop and its last steps have left the device.</summary>
    public bool IsDrained => _draining && _executor.InFlight == 0;

    /// <summary>Creates the context on the calling thread, which owns it from then on, and loads the built-in kernels.</summary>
    public static EngineRuntime Start(GpuBackend backend, EngineOptions options, ILoggerFactory loggers)
    {
        var device = DeviceContext.Create(backend, options.DeviceOrdinal);
        try
        {
            var runtime = new EngineRuntime(backend, options, device, BuiltinModule.Load(device.Context), loggers);
            EngineLog.Started(runtime._engineLogger, device.Context.Device.Name, backend.Description);
            return runtime;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>From any thread: from now on, steps fail with <see cref="EngineError.ShuttingDown"/> and nothing new is created.</summary>
    public void RequestShutdown() => _shuttingDown = true;

    public void BeginDrain() => _draining = true;

    /// <summary>
    /// Runs a request, turning failures into what the caller is told: an <see cref="EngineException"/>
    /// as it is; a sticky fault resets the device and asks for a retry; anything else is internal.
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
            Recover(e, issuing: null, issuingSession: null);
            throw new EngineException(EngineError.DeviceReset, $"the device was reset after a fault ({e.Status}); retry", e);
        }
        catch (Exception e)
        {
            EngineLog.RequestFailed(_engineLogger, e);
            throw new EngineException(EngineError.Internal, $"internal error: {e.Message}", e);
        }
    }

    public void Open(SessionState session)
    {
        _sessions.Add(session);
        var identity = session.Session.Identity;
        SessionLog.Opened(_sessionLogger, session.Session.Id, identity.ClientName, identity.Pid, identity.Uid);
    }

    /// <summary>Releases everything the session holds once its steps have left the device.</summary>
    public Task Close(SessionState session)
    {
        if (session.IsClosed)
        {
            return Task.CompletedTask;
        }
        if (session.InFlight.Count == 0)
        {
            FinishClose(session);
            return Task.CompletedTask;
        }
        if (session.PendingClose is null)
        {
            SessionLog.CloseWaiting(_sessionLogger, session.Session.Id, session.InFlight.Count);
            session.PendingClose = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _closing.Add(session);
        }
        return session.PendingClose.Task;
    }

    public uint AllocateBuffer(SessionState session, ulong bytes) => session.AllocateBuffer(DeviceFor(session).Context, bytes);

    public bool FreeBuffer(SessionState session, uint buffer)
    {
        ThrowIfClosing(session);
        session.FreeBuffer(buffer);
        return true;
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

    public bool ReleaseRegion(SessionState session, uint region)
    {
        ThrowIfClosing(session);
        session.ReleaseRegion(region);
        return true;
    }

    public ModuleLoadResult LoadModule(SessionState session, ModuleFormat format, string name, ReadOnlyMemory<byte> image)
    {
        var device = DeviceFor(session);
        session.ThrowIfModulesFull();
        var compiled = ModuleImages.FromClient(device.Context, format, name, image);
        return new ModuleLoadResult(session.AddModule(device.Context, name, compiled.Image), compiled.FromCache, compiled.Log);
    }

    public bool UnloadModule(SessionState session, uint module)
    {
        ThrowIfClosing(session);
        session.UnloadModule(module);
        return true;
    }

    public uint GetFunction(SessionState session, uint module, string name)
    {
        DeviceFor(session);
        return session.GetFunction(_builtins, module, name);
    }

    public EngineStatus GetStatus()
    {
        var info = _backend.Devices[_options.DeviceOrdinal];
        var memory = _device?.Context.GetMemoryInfo() ?? new DeviceMemoryInfo(0, info.TotalMemoryBytes);
        var sessions = new SessionStatus[_sessions.Count];
        ulong sessionBytes = 0;
        for (var i = 0; i < sessions.Length; i++)
        {
            sessions[i] = _sessions[i].Snapshot();
            sessionBytes += sessions[i].BufferBytes;
        }
        return new EngineStatus(_backend.Kind, info, memory.FreeBytes, memory.TotalBytes, sessionBytes, sessions);
    }

    /// <summary>A step taken from the queue: refused, failed by validation, or issued to the device.</summary>
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
            : owner.IsClosing ? (EngineError.ShuttingDown, "the session is closing")
            : _device is null ? (EngineError.DeviceReset, DeviceLostMessage)
            : (EngineError.None, null);
        if (refusal != EngineError.None)
        {
            _executor.FailUnrun(step, session, refusal, message);
            return;
        }
        try
        {
            _executor.Dispatch(step, session, _device!);
        }
        catch (GpuException e)
        {
            Recover(e, step, session);
        }
    }

    /// <summary>Delivers completed steps; returns how many completed (or failed with a reset).</summary>
    public int Poll()
    {
        if (_device is null || _executor.InFlight == 0)
        {
            return 0;
        }
        int completed;
        try
        {
            completed = _executor.Poll(_device);
        }
        catch (GpuException e)
        {
            // An event query fails only when the context is broken, whatever the status says.
            completed = _executor.InFlight;
            Recover(e, issuing: null, issuingSession: null);
        }
        if (completed > 0)
        {
            FinishIdleCloses();
        }
        return completed;
    }

    /// <summary>At shutdown, once no steps are on the device: every session's holdings, then the device.</summary>
    public void ReleaseEverything()
    {
        foreach (var session in _sessions.ToArray())
        {
            FinishClose(session);
        }
        _builtins.Dispose();
        _device?.Dispose();
        _device = null;
    }

    private string DeviceLostMessage => $"the device could not be set up again after a fault: {_deviceLost}";

    private void Recover(GpuException fault, Step? issuing, SessionState? issuingSession)
    {
        var broken = _device!;
        var suspects = _executor.FailAfterFault(fault, issuing, issuingSession, broken);
        FaultLog.DeviceFaulted(_faultLogger, fault.Status, suspects, fault.Message);
        FinishIdleCloses();
        _device = _recovery.Rebuild(broken, _sessions, out _deviceLost);
    }

    private DeviceContext DeviceFor(SessionState session)
    {
        ThrowIfClosing(session);
        if (_shuttingDown)
        {
            throw new EngineException(EngineError.ShuttingDown, "the engine is shutting down");
        }
        return _device ?? throw new EngineException(EngineError.DeviceReset, DeviceLostMessage);
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
        session.Close();
        _sessions.Remove(session);
        _closing.Remove(session);
        session.PendingClose?.TrySetResult();
        SessionLog.Closed(_sessionLogger, session.Session.Id, session.StepsCompleted, session.StepsFailed);
    }
}
