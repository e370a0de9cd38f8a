using GpuMux.Gpu.Compilation;
using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.CudaCheck;
using static GpuMux.Gpu.Cuda.Native.CudaDriver;

namespace GpuMux.Gpu.Cuda;

/// <summary>
/// The device's primary context, retained for the life of this object and made current on the
/// owning thread. The primary context is the one the runtime API and other libraries in the
/// process share, so a library loaded into the daemon later sees the same memory.
/// </summary>
internal sealed unsafe class CudaContext : GpuContext
{
    private readonly CudaBackend _backend;
    private readonly CUdevice _cuDevice;
    private readonly Lock _releaseGate = new();
    private bool _released;

    private CudaContext(CudaBackend backend, GpuDeviceInfo device, CUdevice cuDevice, nint handle, StreamPriorityRange priorities, ulong granularity, ModuleCompiler compiler)
        : base(device, priorities, granularity, compiler)
    {
        _backend = backend;
        _cuDevice = cuDevice;
        Handle = handle;
    }

    public nint Handle { get; }

    public static CudaContext Create(CudaBackend backend, GpuDeviceInfo device, ModuleCompiler compiler)
    {
        var cuDevice = backend.Handle(device);
        PreferBlockingSync(cuDevice);
        nint handle;
        ThrowIfFailed(cuDevicePrimaryCtxRetain(&handle, cuDevice));
        try
        {
            ThrowIfFailed(cuCtxSetCurrent(handle));
            int least, greatest;
            ThrowIfFailed(cuCtxGetStreamPriorityRange(&least, &greatest));
            var granularity = device.SupportsVirtualMemory ? MinimumGranularity(device.Ordinal) : 2UL << 20;
            return new CudaContext(backend, device, cuDevice, handle, new StreamPriorityRange(least, greatest), granularity, compiler);
        }
        catch
        {
            cuDevicePrimaryCtxRelease_v2(cuDevice);
            throw;
        }
    }

    /// <summary>Runs a release call of an owned object with this context pushed; nothing if the context is gone.</summary>
    public CUresult ReleaseOwned(Func<CUresult> release)
    {
        lock (_releaseGate)
        {
            if (_released)
            {
                return CUresult.CUDA_SUCCESS;
            }
            if (cuCtxPushCurrent_v2(Handle) != CUresult.CUDA_SUCCESS)
            {
                return CUresult.CUDA_ERROR_INVALID_CONTEXT;
            }
            try
            {
                return release();
            }
            finally
            {
                nint popped;
                cuCtxPopCurrent_v2(&popped);
            }
        }
    }

    internal static CUmemAllocationProp PhysicalProperties(int ordinal) => new()
    {
        type = CudaConstants.CU_MEM_ALLOCATION_TYPE_PINNED,
        requestedHandleTypes = CudaConstants.CU_MEM_HANDLE_TYPE_NONE,
        location = new CUmemLocation { type = CudaConstants.CU_MEM_LOCATION_TYPE_DEVICE, id = ordinal },
    };

    protected override DeviceMemoryInfo GetMemoryInfoCore()
    {
        nuint free, total;
        ThrowIfFailed(cuMemGetInfo_v2(&free, &total));
        return new DeviceMemoryInfo(free, total);
    }

    protected override GpuStream CreateStreamCore(int priority) => new CudaStream(this, priority);

    protected override GpuEvent CreateEventCore(bool enableTiming) => new CudaEvent(this, enableTiming);

    protected override GpuStatus TryAllocateCore(ulong bytes, out DeviceAllocation? allocation)
    {
        ulong pointer;
        var result = cuMemAlloc_v2(&pointer, (nuint)bytes);
        allocation = null;
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY)
        {
            return GpuStatus.OutOfMemory;
        }
        ThrowIfFailed(result, "cuMemAlloc_v2");
        allocation = new CudaDeviceAllocation(this, new DevicePtr(pointer), bytes);
        return GpuStatus.Success;
    }

    protected override PinnedHostAllocation AllocatePinnedCore(ulong bytes)
    {
        void* pointer;
        ThrowIfFailed(cuMemHostAlloc(&pointer, (nuint)bytes, CudaConstants.CU_MEMHOSTALLOC_PORTABLE));
        return new CudaPinnedAllocation(this, (nint)pointer, bytes);
    }

    protected override HostRegistration RegisterHostMemoryCore(nint address, ulong bytes)
    {
        ThrowIfFailed(cuMemHostRegister_v2((void*)address, (nuint)bytes, CudaConstants.CU_MEMHOSTREGISTER_PORTABLE));
        return new CudaHostRegistration(this, address, bytes);
    }

    protected override GpuModule LoadModuleCore(ModuleImage image) => CudaModule.Load(this, image);

    protected override void SynchronizeCore() => ThrowIfFailed(cuCtxSynchronize());

    protected override AddressReservation ReserveAddressRangeCore(ulong bytes)
    {
        ulong start;
        ThrowIfFailed(cuMemAddressReserve(&start, (nuint)bytes, (nuint)AllocationGranularity, 0, 0));
        return new CudaAddressReservation(this, new DevicePtr(start), bytes);
    }

    protected override GpuStatus TryCreatePhysicalMemoryCore(ulong bytes, out PhysicalMemory? memory)
    {
        var properties = PhysicalProperties(Device.Ordinal);
        ulong handle;
        var result = cuMemCreate(&handle, (nuint)bytes, &properties, 0);
        memory = null;
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY)
        {
            return GpuStatus.OutOfMemory;
        }
        ThrowIfFailed(result, "cuMemCreate");
        memory = new CudaPhysicalMemory(this, handle, bytes);
        return GpuStatus.Success;
    }

    protected override void MapCore(DevicePtr address, ulong bytes, PhysicalMemory memory, ulong offset) =>
        ThrowIfFailed(cuMemMap(address.Address, (nuint)bytes, (nuint)offset, ((CudaPhysicalMemory)memory).Handle, 0));

    protected override void SetAccessCore(DevicePtr address, ulong bytes, MemoryAccess access)
    {
        var descriptor = new CUmemAccessDesc
        {
            location = new CUmemLocation { type = CudaConstants.CU_MEM_LOCATION_TYPE_DEVICE, id = Device.Ordinal },
            flags = (int)access,
        };
        ThrowIfFailed(cuMemSetAccess(address.Address, (nuint)bytes, &descriptor, 1));
    }

    protected override void UnmapCore(DevicePtr address, ulong bytes) => ThrowIfFailed(cuMemUnmap(address.Address, (nuint)bytes));

    protected override void Release()
    {
        lock (_releaseGate)
        {
            _released = true;
            cuDevicePrimaryCtxRelease_v2(_cuDevice);
        }
        _backend.ContextReleased(Device.Ordinal);
    }

    /// <summary>
    /// Has the primary context block the waiting thread on a synchronisation primitive. Under the
    /// default, CU_CTX_SCHED_AUTO, the driver spins while the process has no more contexts than the
    /// machine has logical processors, which for the daemon is always: every synchronise would hold
    /// a core for as long as the device works. A primary context that is already active was set up by another
    /// user in the process (the daemon is normally the only one), so its flags are that user's
    /// choice and stay; cuda.h documents no refusal of _v2 on an active context, nor what a change
    /// does to one.
    /// </summary>
    private static void PreferBlockingSync(CUdevice device)
    {
        uint flags;
        int active;
        ThrowIfFailed(cuDevicePrimaryCtxGetState(device, &flags, &active));
        var wanted = (flags & ~CudaConstants.CU_CTX_SCHED_MASK) | CudaConstants.CU_CTX_SCHED_BLOCKING_SYNC;
        if (active == 0 && wanted != flags)
        {
            ThrowIfFailed(cuDevicePrimaryCtxSetFlags_v2(device, wanted));
        }
    }

    private static ulong MinimumGranularity(int ordinal)
    {
        var properties = PhysicalProperties(ordinal);
        nuint granularity;
        ThrowIfFailed(cuMemGetAllocationGranularity(&granularity, &properties, CudaConstants.CU_MEM_ALLOC_GRANULARITY_MINIMUM));
        return granularity;
    }
}
