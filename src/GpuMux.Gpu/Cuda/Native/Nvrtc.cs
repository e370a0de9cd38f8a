using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

// Raw libnvrtc entry points (nvrtc.h). nvrtcProgram is an opaque pointer.
internal static unsafe partial class Nvrtc
{
    static Nvrtc() => CudaLibraries.EnsureResolver();

    // Returns a static string naming the code (e.g. "NVRTC_ERROR_COMPILATION"); never freed.
    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial byte* nvrtcGetErrorString(nvrtcResult result);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcVersion(int* major, int* minor);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetNumSupportedArchs(int* numArchs);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetSupportedArchs(int* supportedArchs);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcCreateProgram(
        nint* prog,
        byte* src,
        byte* name,
        int numHeaders,
        byte** headers,
        byte** includeNames);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcDestroyProgram(nint* prog);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcCompileProgram(nint prog, int numOptions, byte** options);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetProgramLogSize(nint prog, nuint* logSizeRet);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetProgramLog(nint prog, byte* log);

    // Size 0 when the program was compiled for a virtual architecture (compute_XX): no cubin then.
    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetCUBINSize(nint prog, nuint* cubinSizeRet);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetCUBIN(nint prog, byte* cubin);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetPTXSize(nint prog, nuint* ptxSizeRet);

    [LibraryImport(CudaLibraries.NvrtcLibraryName)]
    internal static partial nvrtcResult nvrtcGetPTX(nint prog, byte* ptx);
}
