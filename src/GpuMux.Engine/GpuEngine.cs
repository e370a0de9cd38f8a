using GpuMux.Engine.Execution;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;
using GpuMux.Engine.Threading;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GpuMux.Engine;

/// <summary>
/// Shares one GPU among many sessions. One thread owns the device and makes every GPU call;
/// every method here posts to it and returns without waiting for the device.
/// </summary>
public sealed class GpuEngine : IAsyncDisposable
{
    private readonly GpuBackend _backend;
    private readonly EngineOptions _options;
    private readonly EngineThread _thread;
    private readonly Task<string> _deviceLost;
    private readonly StepPool _steps = new();
    private readonly CompileSlots _compiles;
    private long _lastSessionId;

    private GpuEngine(GpuBackend backend, EngineOptions options, EngineThread thread, Task<string> deviceLost)
    {
        _backend = backend;
        _options = options;
        _thread = thread;
        _deviceLost = deviceLost;
        _compiles = new CompileSlots(options.MaxConcurrentCompilesPerTenant);
    }

    public GpuBackendKind BackendKind => _backend.Kind;

    public string BackendDescription => _backend.Description;

    public GpuDeviceInfo Device => _backend.Devices[_options.DeviceOrdinal];

    /// <summary>
    /// Completes, with why, if after a fault the device cannot be set up again: its reset, a new
    /// context or the new context's check of what it computes failed. By then every step on the
    /// device, held or waiting has failed with <see cref="EngineError.DeviceLost"/>, as every later
    /// step and request will; everything the sessions held is gone. Only a new engine, in a new
    /// process (the driver promises nothing more to this one), can use the device again.
    /// </summary>
    public Task<string> DeviceLost => _deviceLost;

    /// <summary>Times the engine thread has woken from its sleep, for measurements of what it costs.</summary>
    internal long EngineWakeups => _thread.Wakeups;

    /// <summary>The kernels of module 0, which every session can use without loading anything.</summary>
    public IReadOnlyList<string> BuiltinFunctions => BuiltinModule.FunctionNames;

    /// <summary>Starts the engine thread, which creates the device's context and loads the built-in kernels.</summary>
    public static async Task<GpuEngine> StartAsync(
        GpuBackend backend,
        EngineOptions options,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(options.DeviceOrdinal, backend.Devices.Count, nameof(options));
        var loggers = loggerFactory ?? NullLoggerFactory.Instance;
        var deviceLost = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        EngineThread? thread = null;
        thread = new EngineThread(
            completions => EngineRuntime.Start(backend, options, loggers, work => thread!.Post(work), reason => deviceLost.TrySetResult(reason), completions),
            options.DeviceOrdinal,
            loggers.CreateLogger<GpuEngine>());
        var started = thread.StartAsync();
        try
        {
            await started.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _ = thread.StopAsync();
            throw;
        }
        return new GpuEngine(backend, options, thread, deviceLost.Task);
    }

    /// <summary>A new session; its steps' outcomes go to <paramref name="sink"/>, on the engine thread.</summary>
    public EngineSession OpenSession(SessionIdentity identity, IStepCompletionSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ObjectDisposedException.ThrowIf(_thread.HasExited, this);
        var session = new EngineSession(Interlocked.Increment(ref _lastSessionId), identity, sink, _thread, _steps, _compiles, _options);
        _thread.Post(new SessionOpening(session));
        return session;
    }

    /// <summary>
    /// Completes once the engine thread has come round to it, behind the work posted before: a
    /// heartbeat that shows the thread is not stuck, for a watchdog.
    /// </summary>
    public Task PingAsync(CancellationToken cancellationToken = default) =>
        _thread.Invoke(static _ => true, cancellationToken);

    public Task<EngineStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        _thread.Invoke(runtime => runtime.GetStatus(), cancellationToken);

    /// <summary>Every session's registered models: their owners, sizes, tiers, residency and swap-in figures.</summary>
    public Task<IReadOnlyList<ModelStatus>> GetModelsAsync(CancellationToken cancellationToken = default) =>
        _thread.Invoke(runtime => runtime.GetModels(), cancellationToken);

    /// <summary>Every tenant the engine knows (with a session now, or usage in the last day): usage, limits and accounting.</summary>
    public Task<IReadOnlyList<TenantStatus>> GetTenantsAsync(CancellationToken cancellationToken = default) =>
        _thread.Invoke(runtime => runtime.GetTenants(), cancellationToken);

    /// <summary>Applies new tenant limits from now on, as a configuration reload does; usage so far is kept.</summary>
    public Task UpdateTenantLimitsAsync(TenantLimitsOptions limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate(_options.Scheduling);
        return _thread.Invoke(runtime => runtime.UpdateTenantLimits(limits), cancellationToken);
    }

    /// <summary>
    /// Stops the engine: queued steps fail with <see cref="EngineError.ShuttingDown"/>, steps on
    /// the device finish, every session's holdings are released, and the engine thread ends.
    /// </summary>
    public ValueTask DisposeAsync() => new(_thread.StopAsync());
}
