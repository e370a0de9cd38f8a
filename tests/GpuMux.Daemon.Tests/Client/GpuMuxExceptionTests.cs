using GpuMux.Client;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Tests.Client;

public sealed class GpuMuxExceptionTests
{
    public static TheoryData<ErrorCode> Codes => [.. Enum.GetValues<ErrorCode>().Where(code => code != ErrorCode.None)];

    [Theory]
    [MemberData(nameof(Codes))]
    public void Every_code_has_its_own_exception_type(ErrorCode code)
    {
        var exception = GpuMuxException.For(code, "what happened");

        Assert.Equal(code, exception.Code);
        Assert.Equal("what happened", exception.Message);
        Assert.Equal(code.IsRetryable(), exception.IsRetryable);
        Assert.IsNotType<UnrecognizedErrorException>(exception);
        Assert.Single(Codes, c => GpuMuxException.For(c, "").GetType() == exception.GetType());
    }

    [Fact]
    public void A_code_from_a_later_version_is_kept()
    {
        var exception = GpuMuxException.For((ErrorCode)300, "new");

        Assert.IsType<UnrecognizedErrorException>(exception);
        Assert.Equal((ErrorCode)300, exception.Code);
    }

    [Fact]
    public void The_model_codes_of_1_1_have_their_own_exceptions()
    {
        Assert.IsType<InvalidModelException>(GpuMuxException.For(ErrorCode.InvalidModel, "tensor w: F17 is not a dtype"));
        Assert.IsType<ModelTooLargeException>(GpuMuxException.For(ErrorCode.ModelTooLarge, "100 GiB over an 80 GiB pool"));
        Assert.IsType<UnknownTensorException>(GpuMuxException.For(ErrorCode.UnknownTensor, "no tensor lm_head.w"));
        Assert.False(GpuMuxException.For(ErrorCode.ModelTooLarge, "").IsRetryable);
    }

    [Fact]
    public void The_scheduling_codes_of_1_2_have_their_own_exceptions_and_neither_retries_nor_closes()
    {
        Assert.IsType<DeadlineMissedException>(GpuMuxException.For(ErrorCode.DeadlineMissed, "late by 3 ms"));
        Assert.IsType<LeaseExpiredException>(GpuMuxException.For(ErrorCode.LeaseExpired, "lease 4 has run out"));
        Assert.Equal((24, 25), ((int)ErrorCode.DeadlineMissed, (int)ErrorCode.LeaseExpired));
        Assert.All([ErrorCode.DeadlineMissed, ErrorCode.LeaseExpired], code => Assert.False(code.IsRetryable() || code.ClosesConnection()));
    }

    [Fact]
    public void A_lost_device_has_its_own_exception_and_code_26_and_is_not_retryable_on_the_same_connection()
    {
        var exception = GpuMuxException.For(ErrorCode.DeviceLost, "the device is lost");

        Assert.IsType<DeviceLostException>(exception);
        Assert.Equal(26, (int)ErrorCode.DeviceLost);
        Assert.False(exception.IsRetryable);
        Assert.False(ErrorCode.DeviceLost.ClosesConnection());
    }

    [Fact]
    public void Out_of_memory_is_retryable_and_does_not_pose_as_the_runtime_s()
    {
        var exception = GpuMuxException.For(ErrorCode.OutOfMemory, "full");

        Assert.IsType<DeviceOutOfMemoryException>(exception);
        Assert.True(exception.IsRetryable);
    }
}
