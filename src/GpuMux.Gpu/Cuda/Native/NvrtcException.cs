using System.Globalization;
using System.Runtime.InteropServices;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Cuda;

/// <summary>
/// An NVRTC call that failed for a reason other than the source not compiling (a compile failure
/// is a <see cref="CompileException"/> carrying the log).
/// </summary>
public sealed class NvrtcException : GpuException
{
    internal NvrtcException(nvrtcResult result, string call)
        : this(result, call, NameOf(result))
    {
    }

    private NvrtcException(nvrtcResult result, string call, string resultName)
        : base(ToStatus(result), $"{call} failed: {resultName} ({(int)result})")
    {
        ResultCode = (int)result;
        ResultName = resultName;
        Call = call;
    }

    /// <summary>The raw nvrtcResult value.</summary>
    public int ResultCode { get; }

    /// <summary>The nvrtcResult's C name, e.g. NVRTC_ERROR_INVALID_OPTION.</summary>
    public string ResultName { get; }

    /// <summary>The failing call as written at the call site.</summary>
    public string Call { get; }

    internal static GpuStatus ToStatus(nvrtcResult result) => result switch
    {
        nvrtcResult.NVRTC_SUCCESS => GpuStatus.Success,
        nvrtcResult.NVRTC_ERROR_OUT_OF_MEMORY => GpuStatus.OutOfMemory,
        nvrtcResult.NVRTC_ERROR_INVALID_INPUT or nvrtcResult.NVRTC_ERROR_INVALID_OPTION => GpuStatus.InvalidValue,
        nvrtcResult.NVRTC_ERROR_INVALID_PROGRAM => GpuStatus.InvalidHandle,
        nvrtcResult.NVRTC_ERROR_COMPILATION => GpuStatus.CompileFailed,
        _ => GpuStatus.Unknown,
    };

    private static unsafe string NameOf(nvrtcResult result)
    {
        // nvrtcGetErrorString answers with the code's own name ("NVRTC_ERROR_..."), and with a
        // generic "unknown" text for codes it does not know, which the enum may still name.
        if (CudaLibraries.IsNvrtcLoaded)
        {
            try
            {
                var text = Marshal.PtrToStringUTF8((nint)Nvrtc.nvrtcGetErrorString(result));
                if (text is not null && text.StartsWith("NVRTC_", StringComparison.Ordinal) && !text.Contains(' ', StringComparison.Ordinal))
                {
                    return text;
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }
        return Enum.IsDefined(result) ? result.ToString() : ((int)result).ToString(CultureInfo.InvariantCulture);
    }
}
