using GpuMux.Engine.Device;
using GpuMux.Engine.Models;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// Something a session asked for that waits its turn behind the session's steps that have not
/// started yet: a step, or a release (of a buffer, region, module or model) asked for after
/// them, which those steps may still use.
/// </summary>
internal readonly record struct WaitingEntry(Step? Step, Action? Release);

/// <summary>
/// Everything one session owns, touched only by the engine thread: its handles, its stream, its
/// steps on the device (oldest first) and its steps waiting to start (in order, with the releases
/// asked for behind them). What it lets go of waits in its device's
/// <see cref="DeferredReleases"/> for the work queued on its stream before the release.
/// </summary>
internal sealed class SessionState(EngineSession session, EngineOptions options)
{
    private readonly HashSet<string> _modelNames = new(StringComparer.Ordinal);
    private long _lastIssued;
    private uint _nextTensor = 1;
    private Tenant? _tenant;
    private bool _moduleRefused;

    public EngineSession Session { get; } = session;

    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    public HandleTable<DeviceBuffer> Buffers { get; } = new();

    /// <summary>How many of <see cref="Buffers"/> may be spilled: a session with none has nothing for a step to restore.</summary>
    public int SpillableBuffers { get; private set; }

    public HandleTable<SharedRegion> Regions { get; } = new();

    public HandleTable<LoadedModule> Modules { get; } = new();

    public HandleTable<KernelFunction> Functions { get; } = new();

    public HandleTable<Model> Models { get; } = new();

    public ulong BufferBytes { get; private set; }

    public ulong RegionBytes { get; private set; }

    /// <summary>What the session's buffers take of the device pool, in whole pages.</summary>
    public ulong BufferPoolBytes { get; private set; }

    /// <summary>Steps issued to the device, oldest first; the newest may be issued only in part (suspended).</summary>
    public Queue<Step> InFlight { get; } = new();

    /// <summary>Steps that cannot start yet, and releases behind them, in the order they came.</summary>
    public Queue<WaitingEntry> Waiting { get; } = new();

    /// <summary>A step issued in part, waiting for its model's weights: nothing of the session's may be issued behind it until it is whole.</summary>
    public Step? Suspended { get; set; }

    /// <summary>When its last step off the device ended, on the host clock: its next cannot have started earlier.</summary>
    public long LastEndedAtNs { get; set; }

    /// <summary>A reset zeroed its buffers and it has not been told yet: its next step fails with <see cref="EngineError.DeviceReset"/>.</summary>
    public bool ResetUntold { get; set; }

    public long StepsCompleted { get; set; }

    public long StepsFailed { get; set; }

    /// <summary>Completes when the session's close has released everything it held.</summary>
    public TaskCompletionSource? PendingClose { get; set; }

    /// <summary>Closed: nothing more runs for it; what it held may still wait for the work queued on its stream.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>The device its buffers, regions, modules and stream are on; null while there is none (between a fault and the rebuild, or after the device is lost).</summary>
    public DeviceContext? Device { get; private set; }

    /// <summary>The uid's account, shared by its sessions; set when the engine opens the session.</summary>
    public Tenant Tenant => _tenant ?? throw new InvalidOperationException("the session has not been opened on the engine thread");

    /// <summary>The priority class its steps are issued in: its lease's, or the default.</summary>
    public int ClassIndex { get; set; }

    /// <summary>The stream priority of <see cref="ClassIndex"/>, which its stream takes once no steps of the old class are on it.</summary>
    public int StreamPriority { get; set; }

    public Lease? Lease { get; set; }

    /// <summary>Steps submitted and held back by the scheduler, in submission order.</summary>
    public Queue<Step> Held { get; } = new();

    /// <summary>Releases asked for while steps were held, each behind the held steps submitted before it.</summary>
    public Queue<(long AfterHeld, Action Release)> ReleasesAfterHeld { get; } = new();

    /// <summary>How many steps have ever been held, and how many of them have left the scheduler (issued or failed).</summary>
    public long HeldCount { get; set; }

    public long HeldTaken { get; set; }

    private WatchedStream? Stream { get; set; }

    /// <summary>
    /// The session's stream on <paramref name="device"/>, made on first use at its class's
    /// priority. When the class has changed and none of the session's steps is on the stream, it
    /// is replaced by one at the new priority, which waits on the device for what was queued on
    /// the old one (zeroing of new buffers).
    /// </summary>
    public WatchedStream StreamOn(DeviceContext device)
    {
        if (Stream is { } current && current.Stream.Priority != StreamPriority && InFlight.Count == 0)
        {
            var next = device.CreateWatchedStream(StreamPriority);
            device.Order(current.Stream, next.Stream);
            current.Dispose();
            Stream = next;
        }
        return Stream ??= device.CreateWatchedStream(StreamPriority);
    }

    /// <summary>On the engine thread, as the session opens: its tenant, the class it starts in, and the device, if there is one.</summary>
    public void Open(Tenant tenant, int classIndex, int streamPriority, DeviceContext? device)
    {
        _tenant = tenant;
        ClassIndex = classIndex;
        StreamPriority = streamPriority;
        Device = device;
    }

    /// <summary>Refuses a buffer of <paramref name="bytes"/> that the session's own limits do not allow.</summary>
    public void ThrowUnlessBufferAllowed(ulong bytes)
    {
        if (bytes == 0)
        {
            throw new EngineException(EngineError.InvalidArgument, "a buffer must have at least one byte");
        }
        if (Buffers.Count >= options.MaxBuffersPerSession)
        {
            throw new EngineException(EngineError.QuotaExceeded, $"the session already has {Buffers.Count} buffers, the most it may have");
        }
        if (options.MaxBufferBytesPerSession != 0 && bytes > options.MaxBufferBytesPerSession - BufferBytes)
        {
            throw new EngineException(
                EngineError.QuotaExceeded,
                $"{bytes} more bytes would take the session's buffers past its {options.MaxBufferBytesPerSession} bytes (it holds {BufferBytes})");
        }
    }

    /// <summary>Adds a buffer whose pages are <paramref name="range"/>, zeroed on the session's stream.</summary>
    public uint AddBuffer(DeviceContext device, DeviceBuffer buffer, Memory.DeviceRange range)
    {
        try
        {
            buffer.Attach(device, range, StreamOn(device).Stream);
        }
        catch
        {
            device.Pool.Release(range);
            throw;
        }
        BufferBytes += buffer.Length;
        BufferPoolBytes += buffer.PoolBytes;
        SpillableBuffers += buffer.Spillable ? 1 : 0;
        buffer.Handle = Buffers.Add(buffer);
        return buffer.Handle;
    }

    /// <summary>A buffer a request may name: the session's, and not already being freed.</summary>
    public DeviceBuffer BufferForRequest(uint handle) =>
        Buffers.TryGet(handle, out var buffer) && !buffer.Releasing ? buffer : throw Unknown("buffer", handle);

    public SharedRegion RegionForRequest(uint handle) =>
        Regions.TryGet(handle, out var region) && !region.Releasing ? region : throw Unknown("region", handle);

    public LoadedModule ModuleForRequest(uint handle)
    {
        if (handle == BuiltinModule.Handle)
        {
            throw new EngineException(EngineError.InvalidArgument, "module 0 holds the built-in kernels and cannot be unloaded");
        }
        return Modules.TryGet(handle, out var module) && !module.Releasing ? module : throw Unknown("module", handle);
    }

    public Model ModelForRequest(uint handle) =>
        Models.TryGet(handle, out var model) && !model.Releasing ? model : throw Unknown("model", handle);

    /// <summary>Forgets the buffer's handle; its pages go back to the pool once the work queued before (its zeroing, steps) is done. Returns its pool bytes.</summary>
    public ulong FreeBuffer(uint handle)
    {
        var buffer = Buffers.Remove(handle, out var removed) ? removed : throw Unknown("buffer", handle);
        BufferBytes -= buffer.Length;
        BufferPoolBytes -= buffer.PoolBytes;
        SpillableBuffers -= buffer.Spillable ? 1 : 0;
        Release(buffer);
        return buffer.PoolBytes;
    }

    /// <summary>Takes ownership of <paramref name="mapping"/>, pinning it on <paramref name="context"/>.</summary>
    public uint AddRegion(GpuContext context, SharedFileMapping mapping)
    {
        var region = new SharedRegion(mapping);
        try
        {
            region.Attach(context);
        }
        catch (GpuException e) when (!e.IsContextFatal)
        {
            region.Dispose();
            throw new EngineException(EngineError.BadDescriptor, $"the mapped file cannot be pinned for DMA: {e.Message}", e);
        }
        catch
        {
            region.Dispose();
            throw;
        }
        RegionBytes += region.Length;
        return Regions.Add(region);
    }

    public void ThrowIfRegionsFull()
    {
        if (Regions.Count >= options.MaxRegionsPerSession)
        {
            throw new EngineException(EngineError.QuotaExceeded, $"the session already has {Regions.Count} regions, the most it may have");
        }
    }

    public void ReleaseRegion(uint handle)
    {
        var region = Regions.Remove(handle, out var removed) ? removed : throw Unknown("region", handle);
        RegionBytes -= region.Length;
        Release(region);
    }

    /// <summary>Notes that the session was refused a module; true the first time only, so that a client asking again and again is logged once.</summary>
    public bool NoteModuleRefused()
    {
        var first = !_moduleRefused;
        _moduleRefused = true;
        return first;
    }

    public void ThrowIfModulesFull()
    {
        if (Modules.Count >= options.MaxModulesPerSession)
        {
            throw new EngineException(EngineError.QuotaExceeded, $"the session already has {Modules.Count} modules, the most it may have");
        }
    }

    public uint AddModule(GpuContext context, string name, ModuleImage image)
    {
        var module = new LoadedModule(name, image);
        try
        {
            module.Attach(context);
        }
        catch (GpuException e) when (!e.IsContextFatal)
        {
            throw new EngineException(EngineError.ModuleLoadFailed, $"module {name} cannot be loaded: {e.Message}", e);
        }
        return Modules.Add(module);
    }

    public void UnloadModule(uint handle)
    {
        var module = Modules.Remove(handle, out var removed) ? removed : throw Unknown("module", handle);
        Functions.RemoveWhere(function => function.Module == module);
        Release(module);
    }

    /// <summary>
    /// Holds <paramref name="name"/> for a model being registered, so that no other registration
    /// takes it meanwhile; refuses an empty name, a name in use, and a model past the limit.
    /// </summary>
    public void ReserveModelName(string name)
    {
        if (name.Length == 0)
        {
            throw new EngineException(EngineError.InvalidArgument, "a model's name must not be empty");
        }
        if (_modelNames.Count >= options.MaxModelsPerSession)
        {
            throw new EngineException(EngineError.QuotaExceeded, $"the session already has {_modelNames.Count} models, the most it may have");
        }
        if (!_modelNames.Add(name))
        {
            throw new EngineException(EngineError.InvalidArgument, $"the session already has a model named {name}");
        }
    }

    public void ForgetModelName(string name) => _modelNames.Remove(name);

    /// <summary>Gives a registered model its handle and its tensors theirs.</summary>
    public uint AddModel(Model model)
    {
        var tensors = (uint)model.Layout.TensorCount;
        if (tensors > uint.MaxValue - _nextTensor)
        {
            throw new EngineException(EngineError.QuotaExceeded, "the session has used up its tensor handles; open a new session");
        }
        model.FirstTensor = _nextTensor;
        _nextTensor += tensors;
        model.Handle = Models.Add(model);
        return model.Handle;
    }

    /// <summary>The model whose tensor handles include <paramref name="tensor"/>, if any is the session's.</summary>
    public Model? ModelOfTensor(uint tensor)
    {
        foreach (var model in Models.Values)
        {
            if (tensor >= model.FirstTensor && tensor - model.FirstTensor < (uint)model.Layout.TensorCount)
            {
                return model;
            }
        }
        return null;
    }

    /// <summary>Forgets the model's handle and name; the store releases its memory.</summary>
    public Model RemoveModel(uint handle)
    {
        var model = Models.Remove(handle, out var removed) ? removed : throw Unknown("model", handle);
        _modelNames.Remove(model.Name);
        return model;
    }

    /// <summary>The handle of kernel <paramref name="name"/> of a module; asking twice gives the same handle.</summary>
    public uint GetFunction(LoadedModule builtins, uint moduleHandle, string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new EngineException(EngineError.InvalidArgument, "a function name must not be empty");
        }
        var module = moduleHandle == BuiltinModule.Handle ? builtins
            : Modules.TryGet(moduleHandle, out var loaded) && !loaded.Releasing ? loaded
            : throw Unknown("module", moduleHandle);
        var existing = Functions.Find(function => function.Module == module && function.Name == name);
        if (existing != 0)
        {
            return existing;
        }
        try
        {
            return Functions.Add(KernelFunction.Find(module, name));
        }
        catch (GpuException e) when (e.Status is GpuStatus.NotFound or GpuStatus.NotSupported)
        {
            throw new EngineException(EngineError.UnknownFunction, $"module {moduleHandle} ({module.Name}) has no kernel {name} that can run here: {e.Message}", e);
        }
    }

    /// <summary>Notes a step issued to the device and returns its sequence number within the session.</summary>
    public long Issued(Step step)
    {
        InFlight.Enqueue(step);
        return ++_lastIssued;
    }

    /// <summary>Lets go of everything on the device, which a fault has made useless; handles and host memory stay.</summary>
    public void DetachFromDevice()
    {
        foreach (var buffer in Buffers.Values)
        {
            buffer.Detach();
        }
        foreach (var region in Regions.Values)
        {
            region.Detach();
        }
        foreach (var module in Modules.Values)
        {
            module.Detach();
        }
        Stream?.Dispose();
        Stream = null;
        Device = null;
    }

    /// <summary>Makes everything again on a new context, after <see cref="DetachFromDevice"/>: the same handles, buffers zeroed.</summary>
    public void AttachToDevice(DeviceContext device)
    {
        Device = device;
        var context = device.Context;
        foreach (var module in Modules.Values)
        {
            module.Attach(context);
        }
        foreach (var function in Functions.Values)
        {
            function.Refresh();
        }
        foreach (var region in Regions.Values)
        {
            region.Attach(context);
        }
        var stream = StreamOn(device).Stream;
        foreach (var buffer in Buffers.Values)
        {
            if (buffer.IsSpilled)
            {
                buffer.AttachSpilled(device, device.Pool.Reserve(buffer.Length));
                continue;
            }
            var range = device.Pool.TryAllocate(buffer.Length)
                ?? throw new GpuException(GpuStatus.OutOfMemory, $"cannot allocate a buffer of {buffer.Length} bytes again from the new device pool");
            buffer.Attach(device, range, stream);
        }
    }

    /// <summary>
    /// Closes the session once its steps have left the device: nothing more runs for it, and
    /// everything it holds, device and host, is freed once the work queued on its stream has
    /// completed (its buffers' zeroing), when <paramref name="released"/> is called. Until then
    /// its buffers and regions still count as its own.
    /// </summary>
    public void Close(Action released)
    {
        IsClosed = true;
        Functions.Clear();
        Models.Clear();
        _modelNames.Clear();
        Waiting.Clear();
        Held.Clear();
        Suspended = null;
        ReleaseAfterQueuedWork(() =>
        {
            FreeHoldings();
            released();
        });
        Stream?.Dispose();
        Stream = null;
    }

    public SessionStatus Snapshot(string className)
    {
        var running = InFlight.Count;
        return new SessionStatus(
            Session.Id,
            Session.Identity,
            ConnectedAt,
            Buffers.Count,
            BufferBytes,
            Regions.Count,
            RegionBytes,
            Modules.Count,
            Math.Max(0, Session.Outstanding - running),
            running,
            StepsCompleted,
            StepsFailed,
            className,
            Lease?.Snapshot());
    }

    private void Release(IDisposable resource) => ReleaseAfterQueuedWork(resource.Dispose);

    /// <summary>Runs <paramref name="release"/> once everything queued on the session's stream so far has completed.</summary>
    private void ReleaseAfterQueuedWork(Action release)
    {
        if (Stream is { } stream && Device is { } device)
        {
            device.Releases.Add(stream, release);
        }
        else
        {
            // No stream, nothing queued; no device, nothing left of the context to wait for.
            release();
        }
    }

    private void FreeHoldings()
    {
        foreach (var buffer in Buffers.Values)
        {
            buffer.Dispose();
        }
        foreach (var region in Regions.Values)
        {
            region.Dispose();
        }
        foreach (var module in Modules.Values)
        {
            module.Dispose();
        }
        Buffers.Clear();
        Regions.Clear();
        Modules.Clear();
        BufferBytes = 0;
        BufferPoolBytes = 0;
        SpillableBuffers = 0;
        RegionBytes = 0;
    }

    private static EngineException Unknown(string kind, uint handle) =>
        new(EngineError.UnknownHandle, $"{kind} {handle} is not a {kind} of this session");
}
