using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

// CUDA 10.2 virtual memory management. Handles are CUmemGenericAllocationHandle
// (unsigned long long); flags arguments are unsigned long long and must currently be 0.
internal static unsafe partial class CudaDriver
{
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemAddressReserve(ulong* ptr, nuint size, nuint alignment, ulong addr, ulong flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemAddressFree(ulong ptr, nuint size);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemCreate(ulong* handle, nuint size, CUmemAllocationProp* prop, ulong flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemRelease(ulong handle);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemMap(ulong ptr, nuint size, nuint offset, ulong handle, ulong flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemUnmap(ulong ptr, nuint size);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemSetAccess(ulong ptr, nuint size, CUmemAccessDesc* desc, nuint count);

    // option is a CUmemAllocationGranularity_flags value (CudaConstants.CU_MEM_ALLOC_GRANULARITY_*).
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemGetAllocationGranularity(nuint* granularity, CUmemAllocationProp* prop, int option);
}
