using GpuMux.Gpu.Cuda;
using GpuMux.Gpu.Cuda.Native;

namespace GpuMux.Gpu.Tests.Cuda;

/// <summary>How CUresults map onto the backend-neutral statuses. Needs no driver: the mapping is a table.</summary>
public sealed class CudaExceptionTests
{
    // Every code whose comment in cuda.h says the process must be terminated and relaunched, or
    // (CUDA_ERROR_ASSERT) that the context cannot be used any more and must be destroyed.
    public static TheoryData<int> Sticky => Codes(
    [
        CUresult.CUDA_ERROR_CONTAINED,
        CUresult.CUDA_ERROR_ILLEGAL_ADDRESS,
        CUresult.CUDA_ERROR_LAUNCH_TIMEOUT,
        CUresult.CUDA_ERROR_ASSERT,
        CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR,
        CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION,
        CUresult.CUDA_ERROR_MISALIGNED_ADDRESS,
        CUresult.CUDA_ERROR_INVALID_ADDRESS_SPACE,
        CUresult.CUDA_ERROR_INVALID_PC,
        CUresult.CUDA_ERROR_LAUNCH_FAILED,
        CUresult.CUDA_ERROR_TENSOR_MEMORY_LEAK,
        CUresult.CUDA_ERROR_MPS_CLIENT_TERMINATED,
        CUresult.CUDA_ERROR_EXTERNAL_DEVICE,
    ]);

    public static TheoryData<int> Recoverable => Codes(
    [
        CUresult.CUDA_ERROR_INVALID_VALUE,
        CUresult.CUDA_ERROR_OUT_OF_MEMORY,
        CUresult.CUDA_ERROR_INVALID_CONTEXT,
        CUresult.CUDA_ERROR_INVALID_PTX,
        CUresult.CUDA_ERROR_NOT_READY,
        CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES,
        CUresult.CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE,
        CUresult.CUDA_ERROR_MPS_SERVER_NOT_READY,
        CUresult.CUDA_ERROR_UNKNOWN,
    ]);

    [Theory]
    [MemberData(nameof(Sticky))]
    public void A_code_after_which_cuda_h_says_the_context_is_unusable_is_context_fatal(int code) =>
        Assert.True(new CudaException((CUresult)code, "call").IsContextFatal, $"{(CUresult)code} maps to {CudaException.ToStatus((CUresult)code)}");

    [Theory]
    [MemberData(nameof(Recoverable))]
    public void A_code_that_leaves_the_context_usable_is_not_context_fatal(int code) =>
        Assert.False(new CudaException((CUresult)code, "call").IsContextFatal, $"{(CUresult)code} maps to {CudaException.ToStatus((CUresult)code)}");

    [Theory]
    [InlineData(810)] // CUDA_ERROR_MPS_CLIENT_TERMINATED
    [InlineData(911)] // CUDA_ERROR_EXTERNAL_DEVICE
    public void A_context_lost_outside_any_kernel_is_not_called_a_kernel_fault(int code) =>
        Assert.Equal(GpuStatus.ContextLost, CudaException.ToStatus((CUresult)code));

    private static TheoryData<int> Codes(CUresult[] results) => new(results.Select(r => (int)r));
}
