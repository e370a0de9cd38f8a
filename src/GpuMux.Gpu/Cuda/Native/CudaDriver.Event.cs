using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

internal static unsafe partial class CudaDriver
{
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuEventCreate(nint* phEvent, uint Flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuEventDestroy_v2(nint hEvent);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuEventRecord(nint hEvent, nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuEventQuery(nint hEvent);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuEventSynchronize(nint hEvent);

    // Binds the unversioned export on purpose. cuda.h 12.8+ #defines the name to
    // cuEventElapsedTime_v2 (same prototype), but that symbol only exists in 12.8+ drivers,
    // while the unversioned one is exported by every driver back to CUDA 2.0, 13.x included.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuEventElapsedTime(float* pMilliseconds, nint hStart, nint hEnd);
}
