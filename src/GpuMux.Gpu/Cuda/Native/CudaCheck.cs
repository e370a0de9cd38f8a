using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Cuda;

internal static class CudaCheck
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ThrowIfFailed(CUresult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CUresult.CUDA_SUCCESS)
        {
            Throw(result, call);
        }
    }

    /// <summary>For queries (<c>cuStreamQuery</c>, <c>cuEventQuery</c>): true when done, false when not ready, an exception otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsDone(CUresult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result == CUresult.CUDA_ERROR_NOT_READY)
        {
            return false;
        }
        ThrowIfFailed(result, call);
        return true;
    }

    // Kept out of line so the inlined success path is a compare and a branch.
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(CUresult result, string call) => throw new CudaException(result, call);
}
