using System.Runtime.InteropServices;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Cuda;

internal enum CudaHandleKind
{
    Stream,
    Event,
    Module,
    DeviceMemory,
    PinnedHostMemory,
    HostRegistration,
    AddressRange,
    PhysicalMemory,
}

/// <summary>
/// Ownership of one driver object, released exactly once: on dispose, or by the finaliser if
/// its owner was leaked. The release runs with the context pushed, so it works from any thread,
/// and is skipped once the context itself is gone, since the driver freed everything with it
/// and a stale handle could otherwise free another context's object.
/// </summary>
internal sealed unsafe class CudaHandle : SafeHandle
{
    private readonly CudaContext _context;
    private readonly CudaHandleKind _kind;
    private readonly nuint _length;

    public CudaHandle(CudaContext context, CudaHandleKind kind, nint value, nuint length = 0)
        : base(0, ownsHandle: true)
    {
        _context = context;
        _kind = kind;
        _length = length;
        SetHandle(value);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => _context.ReleaseOwned(ReleaseCall) == CUresult.CUDA_SUCCESS;

    private CUresult ReleaseCall() => _kind switch
    {
        CudaHandleKind.Stream => CudaDriver.cuStreamDestroy_v2(handle),
        CudaHandleKind.Event => CudaDriver.cuEventDestroy_v2(handle),
        CudaHandleKind.Module => CudaDriver.cuModuleUnload(handle),
        CudaHandleKind.DeviceMemory => CudaDriver.cuMemFree_v2((ulong)handle),
        CudaHandleKind.PinnedHostMemory => CudaDriver.cuMemFreeHost((void*)handle),
        CudaHandleKind.HostRegistration => CudaDriver.cuMemHostUnregister((void*)handle),
        CudaHandleKind.AddressRange => CudaDriver.cuMemAddressFree((ulong)handle, _length),
        CudaHandleKind.PhysicalMemory => CudaDriver.cuMemRelease((ulong)handle),
        _ => CUresult.CUDA_ERROR_INVALID_HANDLE,
    };
}
