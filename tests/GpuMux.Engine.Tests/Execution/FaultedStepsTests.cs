using GpuMux.Engine.Execution;
using GpuMux.Gpu;

namespace GpuMux.Engine.Tests.Execution;

public sealed class FaultedStepsTests
{
    [Fact]
    public void The_one_step_that_could_have_caused_a_kernel_s_fault_is_its_culprit_and_of_several_none_is()
    {
        var fault = new GpuException(GpuStatus.IllegalAddress, "illegal address");

        Assert.Equal(FaultedSteps.Role.Culprit, new FaultedSteps(fault, suspects: 1).SuspectRole);
        Assert.Equal(FaultedSteps.Role.Suspect, new FaultedSteps(fault, suspects: 2).SuspectRole);
        Assert.Equal(EngineError.KernelFault, new FaultedSteps(fault, suspects: 1).OutcomeOf(FaultedSteps.Role.Culprit, lost: null).Error);
    }

    [Fact]
    public void A_fault_no_kernel_raised_has_no_culprit_so_the_step_alone_on_the_device_may_retry()
    {
        var fault = new GpuException(GpuStatus.ContextLost, "the MPS server ended this client");
        var faulted = new FaultedSteps(fault, suspects: 1);

        Assert.Equal(FaultedSteps.Role.Suspect, faulted.SuspectRole);
        Assert.Equal(EngineError.DeviceReset, faulted.OutcomeOf(faulted.SuspectRole, lost: null).Error);
        Assert.Equal(EngineError.DeviceLost, faulted.OutcomeOf(faulted.SuspectRole, lost: "the reset failed").Error);
    }

    [Fact]
    public void A_reset_to_end_a_step_past_its_time_limit_tells_that_step_it_timed_out_and_the_others_to_retry()
    {
        var faulted = new FaultedSteps(new GpuException(GpuStatus.LaunchTimeout, "the step was on the device for more than the limit of class standard (60 s)"), suspects: 1);

        var timedOut = faulted.OutcomeOf(FaultedSteps.Role.Culprit, lost: null);
        Assert.Equal(EngineError.StepTimedOut, timedOut.Error);
        Assert.StartsWith("the step was on the device for more than", timedOut.Message);
        Assert.Equal(EngineError.StepTimedOut, faulted.OutcomeOf(FaultedSteps.Role.Culprit, lost: "the reset failed").Error);
        Assert.Equal(EngineError.DeviceReset, faulted.OutcomeOf(FaultedSteps.Role.Bystander, lost: null).Error);
        Assert.Equal(EngineError.DeviceLost, faulted.OutcomeOf(FaultedSteps.Role.Bystander, lost: "the reset failed").Error);
    }
}
