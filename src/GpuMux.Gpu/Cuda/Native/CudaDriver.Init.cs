using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

// Raw libcuda entry points. Where cuda.h #defines an API name onto a versioned symbol
// (cuMemAlloc -> cuMemAlloc_v2) the method is named after, and binds, that exported symbol.
// Stream-ordered calls bind the legacy-default-stream exports, not the _ptsz/_ptds variants.
internal static unsafe partial class CudaDriver
{
    // The first call into any binding below runs this, so the "cuda" name is mapped before the
    // runtime resolves it.
    static CudaDriver() => CudaLibraries.EnsureResolver();

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuInit(uint Flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDriverGetVersion(int* driverVersion);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuGetErrorName(CUresult error, byte** pStr);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuGetErrorString(CUresult error, byte** pStr);
}
