using GpuMux.Gpu.Compilation;

namespace GpuMux.Gpu;

/// <summary>
/// The one context of one device, owned by the thread that created it: every call on it and on
/// its resources must come from that thread (the daemon's GPU thread), which keeps the driver's
/// per-thread current-context state simple and the order of submissions obvious. Only disposal
/// may happen elsewhere.
/// </summary>
public abstract class GpuContext : GpuResource
{
    private readonly int _ownerThreadId = Environment.CurrentManagedThreadId;
    private readonly ModuleCompiler _compiler;

    protected GpuContext(GpuDeviceInfo device, StreamPriorityRange streamPriorities, ulong allocationGranularity, ModuleCompiler compiler)
    {
        Device = device;
        StreamPriorities = streamPriorities;
        AllocationGranularity = allocationGranularity;
        _compiler = compiler;
    }

    public GpuDeviceInfo Device { get; }

    public StreamPriorityRange StreamPriorities { get; }

    /// <summary>The size, and alignment, of physical memory for the virtual-memory calls (2 MiB on current GPUs).</summary>
    public ulong AllocationGranularity { get; }

    public int OwnerThreadId => _ownerThreadId;

    /// <summary>Throws unless called on the owning thread of a live context.</summary>
    public void VerifyAccess()
    {
        if (Environment.CurrentManagedThreadId != _ownerThreadId)
        {
            ThrowWrongThread();
        }
        ThrowIfDisposed();
    }

    public DeviceMemoryInfo GetMemoryInfo()
    {
        VerifyAccess();
        return GetMemoryInfoCore();
    }

    /// <summary>A stream at <paramref name="priority"/>, which must lie in <see cref="StreamPriorities"/>.</summary>
    public GpuStream CreateStream(int priority)
    {
        VerifyAccess();
        if (!StreamPriorities.Contains(priority))
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, $"stream priority must lie in {StreamPriorities}");
        }
        return CreateStreamCore(priority);
    }

    /// <summary>A stream at the device's lowest priority.</summary>
    public GpuStream CreateStream() => CreateStream(StreamPriorities.Least);

    public GpuEvent CreateEvent(bool enableTiming = true)
    {
        VerifyAccess();
        return CreateEventCore(enableTiming);
    }

    /// <summary>Device memory of <paramref name="bytes"/>; <see cref="GpuStatus.OutOfMemory"/> when there is not enough.</summary>
    public DeviceAllocation Allocate(ulong bytes)
    {
        var status = TryAllocate(bytes, out var allocation);
        return status == GpuStatus.Success
            ? allocation!
            : throw new GpuException(status, $"cannot allocate {bytes} bytes of device memory: {status}");
    }

    /// <summary>Like <see cref="Allocate"/>, but running out of memory is an answer rather than an exception.</summary>
    public GpuStatus TryAllocate(ulong bytes, out DeviceAllocation? allocation)
    {
        VerifyAccess();
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        return TryAllocateCore(bytes, out allocation);
    }

    public PinnedHostAllocation AllocatePinned(ulong bytes)
    {
        VerifyAccess();
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        return AllocatePinnedCore(bytes);
    }

    /// <summary>
    /// Pins existing host pages for DMA until the registration is disposed. The range starts on a
    /// page boundary: older drivers refuse any other start, and a mapping always has one.
    /// </summary>
    public HostRegistration RegisterHostMemory(nint address, ulong bytes)
    {
        VerifyAccess();
        ArgumentOutOfRangeException.ThrowIfZero(bytes);
        if (address == 0)
        {
            throw new ArgumentNullException(nameof(address));
        }
        if ((ulong)address % (ulong)Environment.SystemPageSize != 0)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"host memory to register must start on a page boundary, not at 0x{address:x}");
        }
        return RegisterHostMemoryCore(address, bytes);
    }

    /// <summary>
    /// The compiler this context compiles CUDA C with, which any thread may use: compiling needs no
    /// context (NVRTC runs on the host), so a long compile can run off the context's thread, for
    /// <see cref="Device"/>'s compute capability, and only the load of its image on it.
    /// </summary>
    public ModuleCompiler Compiler => _compiler;

    /// <summary>Compiles CUDA C for this device, through the disk cache, on the context's thread.</summary>
    public CompiledModule Compile(KernelSource source)
    {
        VerifyAccess();
        return _compiler.Compile(source, Device.ComputeCapability);
    }

    public GpuModule LoadModule(ModuleImage image)
    {
        VerifyAccess();
        if (image.Bytes.IsEmpty)
        {
            throw new GpuException(GpuStatus.InvalidImage, "module image is empty");
        }
        return LoadModuleCore(image);
    }

    public GpuModule LoadModule(KernelSource source) => LoadModule(Compile(source).Image);

    /// <summary>Waits for all work on every stream of the context.</summary>
    public void Synchronize()
    {
        VerifyAccess();
        SynchronizeCore();
    }

    public AddressReservation ReserveAddressRange(ulong bytes)
    {
        VerifyAccess();
        RequireGranular(bytes, nameof(bytes));
        return ReserveAddressRangeCore(bytes);
    }

    public GpuStatus TryCreatePhysicalMemory(ulong bytes, out PhysicalMemory? memory)
    {
        VerifyAccess();
        RequireGranular(bytes, nameof(bytes));
        return TryCreatePhysicalMemoryCore(bytes, out memory);
    }

    public PhysicalMemory CreatePhysicalMemory(ulong bytes)
    {
        var status = TryCreatePhysicalMemory(bytes, out var memory);
        return status == GpuStatus.Success
            ? memory!
            : throw new GpuException(status, $"cannot create {bytes} bytes of physical device memory: {status}");
    }

    /// <summary>
    /// Maps the first <paramref name="bytes"/> of <paramref name="memory"/> at <paramref name="address"/>,
    /// unmapped addresses inside one reservation. The mapping gives no access until
    /// <see cref="SetAccess"/>. <paramref name="offset"/> is the driver's, which currently refuses
    /// anything but 0 (<c>cuMemMap</c>: "currently must be zero"): memory is mapped whole or by a prefix.
    /// </summary>
    public void Map(DevicePtr address, ulong bytes, PhysicalMemory memory, ulong offset = 0)
    {
        VerifyAccess();
        RequireGranular(address.Address, nameof(address));
        RequireGranular(bytes, nameof(bytes));
        RequireGranular(offset, nameof(offset));
        if (offset + bytes > memory.Length)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"mapping {bytes} bytes from offset {offset} overruns {memory.Length} bytes of physical memory");
        }
        MapCore(address, bytes, memory, offset);
    }

    /// <summary>Sets the device's access to a range that is wholly mapped and holds each of its mappings whole, however many.</summary>
    public void SetAccess(DevicePtr address, ulong bytes, MemoryAccess access)
    {
        VerifyAccess();
        RequireGranular(address.Address, nameof(address));
        RequireGranular(bytes, nameof(bytes));
        SetAccessCore(address, bytes, access);
    }

    /// <summary>Unmaps exactly the range that one <see cref="Map"/> mapped; the addresses stay reserved.</summary>
    public void Unmap(DevicePtr address, ulong bytes)
    {
        VerifyAccess();
        RequireGranular(address.Address, nameof(address));
        RequireGranular(bytes, nameof(bytes));
        UnmapCore(address, bytes);
    }

    protected abstract DeviceMemoryInfo GetMemoryInfoCore();

    protected abstract GpuStream CreateStreamCore(int priority);

    protected abstract GpuEvent CreateEventCore(bool enableTiming);

    protected abstract GpuStatus TryAllocateCore(ulong bytes, out DeviceAllocation? allocation);

    protected abstract PinnedHostAllocation AllocatePinnedCore(ulong bytes);

    protected abstract HostRegistration RegisterHostMemoryCore(nint address, ulong bytes);

    protected abstract GpuModule LoadModuleCore(ModuleImage image);

    protected abstract void SynchronizeCore();

    protected abstract AddressReservation ReserveAddressRangeCore(ulong bytes);

    protected abstract GpuStatus TryCreatePhysicalMemoryCore(ulong bytes, out PhysicalMemory? memory);

    protected abstract void MapCore(DevicePtr address, ulong bytes, PhysicalMemory memory, ulong offset);

    protected abstract void SetAccessCore(DevicePtr address, ulong bytes, MemoryAccess access);

    protected abstract void UnmapCore(DevicePtr address, ulong bytes);

    private void RequireGranular(ulong value, string name)
    {
        if (value % AllocationGranularity != 0)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"{name} ({value}) must be a multiple of the allocation granularity ({AllocationGranularity})");
        }
    }

    private void ThrowWrongThread() =>
        throw new InvalidOperationException(
            $"the GPU context of device {Device.Ordinal} is owned by thread {_ownerThreadId}; thread {Environment.CurrentManagedThreadId} may not use it");
}
