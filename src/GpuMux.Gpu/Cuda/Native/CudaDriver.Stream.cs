using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

internal static unsafe partial class CudaDriver
{
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuStreamCreateWithPriority(nint* phStream, uint flags, int priority);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuStreamDestroy_v2(nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuStreamSynchronize(nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuStreamQuery(nint hStream);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuStreamWaitEvent(nint hStream, nint hEvent, uint Flags);

    // Called on a thread of the driver's; unlike cuStreamAddCallback, never after a device error.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuLaunchHostFunc(nint hStream, delegate* unmanaged<nint, void> fn, nint userData);
}
