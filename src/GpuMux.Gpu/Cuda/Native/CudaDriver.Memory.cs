using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

// The _v2 exports are the ones taking a 64-bit CUdeviceptr and size_t sizes; the unversioned
// symbols are the 32-bit-pointer ABI from before CUDA 3.2.
internal static unsafe partial class CudaDriver
{
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemAlloc_v2(ulong* dptr, nuint bytesize);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemFree_v2(ulong dptr);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemHostAlloc(void** pp, nuint bytesize, uint Flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemFreeHost(void* p);

    // cuda.h #defines cuMemHostRegister to this export (ABI 6.5); the unversioned one is the 4.0 ABI.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemHostRegister_v2(void* p, nuint bytesize, uint Flags);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemHostUnregister(void* p);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemcpyHtoDAsync_v2(ulong dstDevice, void* srcHost, nuint ByteCount, nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemcpyDtoHAsync_v2(void* dstHost, ulong srcDevice, nuint ByteCount, nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemcpyDtoDAsync_v2(ulong dstDevice, ulong srcDevice, nuint ByteCount, nint hStream);

    // The async memsets arrived with 64-bit device pointers (3.2), so their exports carry no suffix.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemsetD8Async(ulong dstDevice, byte uc, nuint N, nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuMemsetD32Async(ulong dstDevice, uint ui, nuint N, nint hStream);
}
