using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

internal static unsafe partial class CudaDriver
{
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceGetCount(int* count);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceGet(CUdevice* device, int ordinal);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceGetName(byte* name, int len, CUdevice dev);

    // cuDeviceTotalMem is #defined to the _v2 export, which reports size_t rather than unsigned int.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceTotalMem_v2(nuint* bytes, CUdevice dev);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceGetPCIBusId(byte* pciBusId, int len, CUdevice dev);

    // cuDeviceGetUuid is #defined to the _v2 export, which gives a MIG instance's own UUID; the
    // CUuuid it fills is 16 bytes, passed here as a plain buffer.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuDeviceGetUuid_v2(byte* uuid, CUdevice dev);
}
