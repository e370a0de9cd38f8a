using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

internal static unsafe partial class CudaDriver
{
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDevicePrimaryCtxRetain(nint* pctx, CUdevice dev);

    // The unversioned export is the pre-11.0 ABI; cuda.h maps the name onto _v2.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);

    // flags holds CUctx_flags values (CudaConstants.CU_CTX_*). cuda.h maps the name onto _v2; the
    // unversioned export, the pre-11.0 ABI, refused a primary context that was already active.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, uint flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDevicePrimaryCtxGetState(CUdevice dev, uint* flags, int* active);

    // cuda.h maps cuDevicePrimaryCtxReset onto this export too (11.0), like the release above.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuCtxSetCurrent(nint ctx);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuCtxPushCurrent_v2(nint ctx);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuCtxPopCurrent_v2(nint* pctx);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuCtxSynchronize();

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuCtxGetStreamPriorityRange(int* leastPriority, int* greatestPriority);
}
