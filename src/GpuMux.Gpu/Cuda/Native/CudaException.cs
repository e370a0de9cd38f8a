using System.Globalization;
using System.Runtime.InteropServices;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Cuda;

/// <summary>A CUDA driver call that returned something other than CUDA_SUCCESS.</summary>
public sealed class CudaException : GpuException
{
    internal CudaException(CUresult result, string call)
        : this(result, call, NameOf(result), DescriptionOf(result))
    {
    }

    private CudaException(CUresult result, string call, string resultName, string description)
        : base(ToStatus(result), $"{call} failed: {Label(result, resultName)}: {description}")
    {
        ResultCode = (int)result;
        ResultName = resultName;
        Description = description;
        Call = call;
    }

    /// <summary>The raw CUresult value.</summary>
    public int ResultCode { get; }

    /// <summary>The CUresult's C name, e.g. CUDA_ERROR_OUT_OF_MEMORY.</summary>
    public string ResultName { get; }

    /// <summary>The driver's own text for the result (cuGetErrorString).</summary>
    public string Description { get; }

    /// <summary>The failing call as written at the call site.</summary>
    public string Call { get; }

    internal static GpuStatus ToStatus(CUresult result) => result switch
    {
        CUresult.CUDA_SUCCESS => GpuStatus.Success,
        CUresult.CUDA_ERROR_OUT_OF_MEMORY => GpuStatus.OutOfMemory,
        CUresult.CUDA_ERROR_INVALID_VALUE => GpuStatus.InvalidValue,
        CUresult.CUDA_ERROR_INVALID_HANDLE
            or CUresult.CUDA_ERROR_INVALID_CONTEXT
            or CUresult.CUDA_ERROR_CONTEXT_IS_DESTROYED => GpuStatus.InvalidHandle,
        CUresult.CUDA_ERROR_NOT_READY => GpuStatus.NotReady,
        CUresult.CUDA_ERROR_NOT_FOUND => GpuStatus.NotFound,
        CUresult.CUDA_ERROR_NOT_SUPPORTED or CUresult.CUDA_ERROR_NOT_PERMITTED => GpuStatus.NotSupported,
        CUresult.CUDA_ERROR_NO_DEVICE or CUresult.CUDA_ERROR_INVALID_DEVICE => GpuStatus.NoDevice,
        CUresult.CUDA_ERROR_INVALID_IMAGE
            or CUresult.CUDA_ERROR_INVALID_PTX
            or CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU
            or CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
            or CUresult.CUDA_ERROR_JIT_COMPILER_NOT_FOUND => GpuStatus.InvalidImage,
        CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES => GpuStatus.LaunchOutOfResources,
        CUresult.CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED => GpuStatus.HostMemoryAlreadyRegistered,
        CUresult.CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED => GpuStatus.HostMemoryNotRegistered,
        CUresult.CUDA_ERROR_ALREADY_MAPPED => GpuStatus.AlreadyMapped,
        CUresult.CUDA_ERROR_NOT_MAPPED => GpuStatus.NotMapped,
        CUresult.CUDA_ERROR_ILLEGAL_ADDRESS => GpuStatus.IllegalAddress,
        // CONTAINED and TENSOR_MEMORY_LEAK (12.8+) are documented as sticky in the same way as
        // the launch faults: every later call on the context fails with them.
        CUresult.CUDA_ERROR_LAUNCH_FAILED
            or CUresult.CUDA_ERROR_MISALIGNED_ADDRESS
            or CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION
            or CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR
            or CUresult.CUDA_ERROR_INVALID_PC
            or CUresult.CUDA_ERROR_INVALID_ADDRESS_SPACE
            or CUresult.CUDA_ERROR_ASSERT
            or CUresult.CUDA_ERROR_ECC_UNCORRECTABLE
            or CUresult.CUDA_ERROR_CONTAINED
            or CUresult.CUDA_ERROR_TENSOR_MEMORY_LEAK => GpuStatus.KernelFault,
        CUresult.CUDA_ERROR_LAUNCH_TIMEOUT => GpuStatus.LaunchTimeout,
        // cuda.h: "To continue using CUDA, the process must be terminated and relaunched", as for
        // the launch faults, though no kernel of ours raised them.
        CUresult.CUDA_ERROR_MPS_CLIENT_TERMINATED or CUresult.CUDA_ERROR_EXTERNAL_DEVICE => GpuStatus.ContextLost,
        _ => GpuStatus.Unknown,
    };

    // Both lookups ask the driver only when it is already loaded: an error raised while probing
    // for it must not try to load it again, and a failure here must not hide the original one.
    private static unsafe string NameOf(CUresult result)
    {
        if (CudaLibraries.IsDriverLoaded)
        {
            try
            {
                byte* name = null;
                if (CudaDriver.cuGetErrorName(result, &name) == CUresult.CUDA_SUCCESS && name is not null)
                {
                    return Marshal.PtrToStringUTF8((nint)name) ?? FallbackName(result);
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }
        return FallbackName(result);
    }

    private static unsafe string DescriptionOf(CUresult result)
    {
        if (CudaLibraries.IsDriverLoaded)
        {
            try
            {
                byte* text = null;
                if (CudaDriver.cuGetErrorString(result, &text) == CUresult.CUDA_SUCCESS && text is not null)
                {
                    return Marshal.PtrToStringUTF8((nint)text) ?? "no description";
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }
        return Enum.IsDefined(result) ? "no description from the driver" : "unrecognised CUDA result";
    }

    private static string Label(CUresult result, string name) =>
        name == Number(result) ? $"CUresult {name}" : $"{name} ({(int)result})";

    private static string FallbackName(CUresult result) => Enum.IsDefined(result) ? result.ToString() : Number(result);

    private static string Number(CUresult result) => ((int)result).ToString(CultureInfo.InvariantCulture);
}
