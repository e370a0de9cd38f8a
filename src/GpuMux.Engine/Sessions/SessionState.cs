using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// Everything one session owns, touched only by the engine thread: its handles, its stream, its
/// steps on the device (oldest first) and the releases waiting for them.
/// </summary>
internal sealed class SessionState(EngineSession session, EngineOptions options)
{
    private readonly DeferredReleases _deferred = new();
    private long _lastIssued;

    public EngineSession Session { get; } = session;

    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    public HandleTable<DeviceBuffer> Buffers { get; } = new();

    public HandleTable<SharedRegion> Regions { get; } = new();

    public HandleTable<LoadedModule> Modules { get; } = new();

    public HandleTable<KernelFunction> Functions { get; } = new();

    public ulong BufferBytes { get; private set; }

    public ulong RegionBytes { get; private set; }

    public Queue<Step> InFlight { get; } = new();

    public long StepsCompleted { get; set; }

    public long StepsFailed { get; set; }

    /// <summary>Completes when a close that had to wait for steps on the device has released everything.</summary>
    public TaskCompletionSource? PendingClose { get; set; }

    public bool IsClosed { get; private set; }

    private GpuStream? Stream { get; set; }

    /// <summary>The session's stream, made on first use; every stream is at the lowest priority until priority classes arrive.</summary>
    public GpuStream StreamOn(GpuContext context) => Stream ??= context.CreateStream();

    public uint AllocateBuffer(GpuContext context, ulong bytes)
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
        var buffer = new DeviceBuffer(bytes);
        try
        {
            var status = buffer.TryAttach(context, StreamOn(context));
            if (status != GpuStatus.Success)
            {
                throw status == GpuStatus.OutOfMemory
                    ? new EngineException(EngineError.OutOfMemory, $"the device has no room for {bytes} more bytes")
                    : new GpuException(status, $"cannot allocate {bytes} bytes of device memory: {status}");
            }
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        BufferBytes += bytes;
        return Buffers.Add(buffer);
    }

    public void FreeBuffer(uint handle)
    {
        var buffer = Buffers.Remove(handle, out var removed) ? removed : throw Unknown("buffer", handle);
        BufferBytes -= buffer.Length;
        Release(buffer);
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
        if (handle == BuiltinModule.Handle)
        {
            throw new EngineException(EngineError.InvalidArgument, "module 0 holds the built-in kernels and cannot be unloaded");
        }
        var module = Modules.Remove(handle, out var removed) ? removed : throw Unknown("module", handle);
        Functions.RemoveWhere(function => function.Module == module);
        Release(module);
    }

    /// <summary>The handle of kernel <paramref name="name"/> of a module; asking twice gives the same handle.</summary>
    public uint GetFunction(LoadedModule builtins, uint moduleHandle, string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new EngineException(EngineError.InvalidArgument, "a function name must not be empty");
        }
        var module = moduleHandle == BuiltinModule.Handle ? builtins
            : Modules.TryGet(moduleHandle, out var loaded) ? loaded
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

    /// <summary>Releases what was waiting for <paramref name="step"/>, which has left the device.</summary>
    public void Retired(Step step) => _deferred.ReleaseThrough(step.Sequence);

    /// <summary>Lets go of everything on the device, which a fault has made useless; handles and host memory stay.</summary>
    public void DetachFromDevice()
    {
        _deferred.ReleaseAll();
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
    }

    /// <summary>Makes everything again on a new context, after <see cref="DetachFromDevice"/>: the same handles, buffers zeroed.</summary>
    public void AttachToDevice(GpuContext context)
    {
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
        var stream = StreamOn(context);
        foreach (var buffer in Buffers.Values)
        {
            var status = buffer.TryAttach(context, stream);
            if (status != GpuStatus.Success)
            {
                throw new GpuException(status, $"cannot allocate a buffer of {buffer.Length} bytes again");
            }
        }
    }

    /// <summary>Frees everything the session holds, device and host; once its steps have left the device.</summary>
    public void Close()
    {
        _deferred.ReleaseAll();
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
        Functions.Clear();
        BufferBytes = 0;
        RegionBytes = 0;
        Stream?.Dispose();
        Stream = null;
        IsClosed = true;
    }

    public SessionStatus Snapshot()
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
            StepsFailed);
    }

    private void Release(IDisposable resource)
    {
        if (InFlight.Count == 0)
        {
            resource.Dispose();
        }
        else
        {
            _deferred.Add(_lastIssued, resource);
        }
    }

    private static EngineException Unknown(string kind, uint handle) =>
        new(EngineError.UnknownHandle, $"{kind} {handle} is not a {kind} of this session");
}
