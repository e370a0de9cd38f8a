namespace GpuMux.Gpu.Tests.Execution;

/// <summary>The launch check, fed with parameters as <c>cuFuncGetParamInfo</c> reports them: an offset and a size each.</summary>
public sealed class KernelLaunchCheckTests
{
    // extern "C" __global__ void scale(float* x, float factor, unsigned long long count)
    private static readonly KernelParameter[] Scale = [new(0, 8), new(8, 4), new(16, 8)];

    [Fact]
    public void Arguments_that_match_the_parameters_in_number_and_size_pass()
    {
        var arguments = new KernelArguments().Add(new DevicePtr(0x1000)).Add(2f).Add(100UL);

        KernelLaunchCheck.Check("scale", Scale, arguments.Items);
    }

    [Fact]
    public void An_argument_too_few_or_too_many_is_an_invalid_value_giving_both_counts()
    {
        var tooFew = new KernelArguments().Add(new DevicePtr(0x1000)).Add(2f);
        var tooMany = new KernelArguments().Add(new DevicePtr(0x1000)).Add(2f).Add(100UL).Add(1);

        var few = Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("scale", Scale, tooFew.Items));
        var many = Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("scale", Scale, tooMany.Items));

        Assert.Equal(GpuStatus.InvalidValue, few.Status);
        Assert.Equal("kernel scale takes 3 arguments, the launch passed 2", few.Message);
        Assert.Equal(GpuStatus.InvalidValue, many.Status);
        Assert.Equal("kernel scale takes 3 arguments, the launch passed 4", many.Message);
    }

    [Fact]
    public void An_argument_narrower_or_wider_than_its_parameter_is_an_invalid_value_naming_the_parameter()
    {
        var narrow = new KernelArguments().Add(new DevicePtr(0x1000)).Add(2f).Add(100);
        var wide = new KernelArguments().Add(new DevicePtr(0x1000)).Add(2.0).Add(100UL);

        var narrowError = Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("scale", Scale, narrow.Items));
        var wideError = Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("scale", Scale, wide.Items));

        Assert.Equal(GpuStatus.InvalidValue, narrowError.Status);
        Assert.Equal("parameter 2 of kernel scale is 8 bytes, the launch passed a 4-byte Int32", narrowError.Message);
        Assert.Equal("parameter 1 of kernel scale is 4 bytes, the launch passed a 8-byte Float64", wideError.Message);
    }

    [Theory]
    [InlineData(16)] // a struct passed by value
    [InlineData(2)] // a half or a short
    [InlineData(1)] // a bool or a char
    public void A_parameter_no_argument_kind_can_fill_refuses_every_launch(ulong size)
    {
        KernelParameter[] parameters = [new(0, size)];

        Assert.Equal(GpuStatus.InvalidValue, Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("k", parameters, new KernelArguments().Add(1).Items)).Status);
        Assert.Equal(GpuStatus.InvalidValue, Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("k", parameters, new KernelArguments().Add(1L).Items)).Status);
    }

    [Fact]
    public void A_kernel_takes_no_arguments_when_the_driver_reports_no_parameters()
    {
        KernelLaunchCheck.Check("empty", [], []);

        Assert.Equal(GpuStatus.InvalidValue, Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("empty", [], new KernelArguments().Add(1).Items)).Status);
    }

    [Fact]
    public void A_kernel_whose_parameters_the_driver_cannot_report_is_not_launched()
    {
        var error = Assert.Throws<GpuException>(() => KernelLaunchCheck.Check("scale", null, new KernelArguments().Add(new DevicePtr(0x1000)).Add(2f).Add(100UL).Items));

        Assert.Equal(GpuStatus.NotSupported, error.Status);
        Assert.Contains("cuFuncGetParamInfo needs CUDA 12.4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_are_laid_out_each_at_the_next_offset_aligned_to_its_size()
    {
        KernelArgumentKind[] kinds = [KernelArgumentKind.Float32, KernelArgumentKind.Pointer, KernelArgumentKind.UInt32, KernelArgumentKind.UInt32, KernelArgumentKind.Float64];

        Assert.Equal([new(0, 4), new(8, 8), new(16, 4), new(20, 4), new(24, 8)], KernelParameter.LayOut(kinds));
    }
}
