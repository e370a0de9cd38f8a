namespace GpuMux.Gpu.Sim;

internal sealed class SimStream : GpuStream
{
    private readonly SimContext _context;

    public SimStream(SimContext context, int priority)
        : base(context, priority)
    {
        _context = context;
        context.Scheduler.AddStream(this);
    }

    /// <summary>Queued work, head first; guarded by the scheduler's lock.</summary>
    public Queue<SimOperation> Queue { get; } = new();

    public bool Destroyed { get; set; }

    /// <summary>When the stream's last completed operation ended on the modelled timeline; guarded by the scheduler's lock.</summary>
    public long FreeAt { get; set; }

    /// <summary>Completed launches, host functions, waits and records that nothing refers to, for reuse; guarded by the scheduler's lock.</summary>
    public Stack<SimLaunch> FreeLaunches { get; } = new();

    /// <inheritdoc cref="FreeLaunches"/>
    public Stack<SimHostFunction> FreeHostFunctions { get; } = new();

    /// <inheritdoc cref="FreeLaunches"/>
    public Stack<SimRecord> FreeRecords { get; } = new();

    /// <inheritdoc cref="FreeLaunches"/>
    public Stack<SimWait> FreeWaits { get; } = new();

    protected override void CopyToDeviceCore(DevicePtr destination, nint source, ulong bytes)
    {
        RequireDeviceRange(destination, bytes, write: true);
        EnqueueCopy(SimCopyDirection.ToDevice, destination.Address, (ulong)source, bytes, _context.CopyBandwidth(source, bytes));
    }

    protected override void CopyToHostCore(nint destination, DevicePtr source, ulong bytes)
    {
        RequireDeviceRange(source, bytes, write: false);
        EnqueueCopy(SimCopyDirection.ToHost, (ulong)destination, source.Address, bytes, _context.CopyBandwidth(destination, bytes));
    }

    protected override void CopyOnDeviceCore(DevicePtr destination, DevicePtr source, ulong bytes)
    {
        RequireDeviceRange(destination, bytes, write: true);
        RequireDeviceRange(source, bytes, write: false);
        // A device-to-device copy reads and writes device memory: twice the bytes at device bandwidth.
        EnqueueCopy(SimCopyDirection.OnDevice, destination.Address, source.Address, bytes, _context.Options.DeviceMemoryBytesPerSecond / 2);
    }

    protected override void Memset8Core(DevicePtr destination, byte value, ulong count)
    {
        RequireDeviceRange(destination, count, write: true);
        _context.Scheduler.Enqueue(new SimMemset(this, destination.Address, value, sizeof(byte), count));
    }

    protected override void Memset32Core(DevicePtr destination, uint value, ulong count)
    {
        if (destination.Address % sizeof(uint) != 0)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"32-bit memset needs a 4-byte aligned address, not {destination}");
        }
        RequireDeviceRange(destination, count * sizeof(uint), write: true);
        _context.Scheduler.Enqueue(new SimMemset(this, destination.Address, value, sizeof(uint), count));
    }

    protected override void LaunchCore(GpuFunction function, LaunchConfig config, KernelArguments arguments)
    {
        _context.Scheduler.ThrowIfFaulted();
        SimLaunchLimits.Check(_context.Device, function.Name, config);
        _context.Scheduler.Launch(this, ((SimFunction)function).Kernel, arguments.Items);
    }

    protected override void RecordCore(GpuEvent marker)
    {
        var simEvent = (SimEvent)marker;
        simEvent.Latest = _context.Scheduler.Record(this, simEvent.Latest);
    }

    protected override void WaitCore(GpuEvent marker)
    {
        if (((SimEvent)marker).Latest is { } target)
        {
            _context.Scheduler.Wait(this, target);
        }
    }

    protected override unsafe void LaunchHostFunctionCore(delegate* unmanaged<nint, void> function, nint userData) =>
        _context.Scheduler.LaunchHostFunction(this, function, userData);

    protected override bool IsIdleCore() => _context.Scheduler.IsIdle(this);

    protected override void SynchronizeCore() => _context.Scheduler.WaitIdle(this);

    protected override void Release() => _context.Scheduler.RemoveStream(this);

    private void EnqueueCopy(SimCopyDirection direction, ulong destination, ulong source, ulong bytes, double bytesPerSecond)
    {
        if (bytes > 0)
        {
            _context.Scheduler.Enqueue(new SimCopy(this, direction, destination, source, bytes, bytesPerSecond));
        }
    }

    /// <summary>CUDA checks a copy's device range when the copy is queued, and refuses a bad one with an invalid-value error.</summary>
    private void RequireDeviceRange(DevicePtr pointer, ulong bytes, bool write)
    {
        _context.Scheduler.ThrowIfFaulted();
        if (bytes > 0 && !_context.Memory.IsAccessible(pointer, bytes, write))
        {
            throw new GpuException(GpuStatus.InvalidValue, $"{bytes} bytes at {pointer} are not {(write ? "writable " : "")}device memory of this context");
        }
    }
}
