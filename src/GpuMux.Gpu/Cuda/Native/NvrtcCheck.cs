using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Cuda;

internal static class NvrtcCheck
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ThrowIfFailed(nvrtcResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != nvrtcResult.NVRTC_SUCCESS)
        {
            Throw(result, call);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(nvrtcResult result, string call) => throw new NvrtcException(result, call);
}
