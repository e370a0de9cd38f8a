using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

internal static unsafe partial class CudaDriver
{
    // options holds CUjit_option values (CudaConstants.CU_JIT_*); each optionValues entry is the
    // option's value cast to a pointer (or a pointer to a buffer, for the log options).
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuModuleLoadDataEx(nint* module, void* image, uint numOptions, int* options, void** optionValues);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuModuleUnload(nint hmod);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuModuleGetFunction(nint* hfunc, nint hmod, byte* name);

    // CUDA 12.4 and later; CUDA_ERROR_INVALID_VALUE once paramIndex reaches the kernel's parameter count.
    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuFuncGetParamInfo(nint func, nuint paramIndex, nuint* paramOffset, nuint* paramSize);

    [LibraryImport(CudaLibraries.DriverLibraryName)]
    internal static partial CUresult cuLaunchKernel(
        nint f,
        uint gridDimX,
        uint gridDimY,
        uint gridDimZ,
        uint blockDimX,
        uint blockDimY,
        uint blockDimZ,
        uint sharedMemBytes,
        nint hStream,
        void** kernelParams,
        void** extra);
}
