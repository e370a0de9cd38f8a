using GpuMux.Engine.Sessions;
using GpuMux.Gpu;

namespace GpuMux.Engine.Execution;

/// <summary>
/// The steps a sticky fault took off the device, held until the engine knows whether the device
/// came back: what each is told depends on it. A fault names no stream, so it is pinned on a step
/// only when exactly one could have caused it (a step whose kernel faults never completes). A
/// reset to end a step past its time limit (<see cref="GpuStatus.LaunchTimeout"/>, as the
/// driver's own watchdog reports) is pinned on that step when it was alone on the device.
/// </summary>
internal sealed class FaultedSteps(GpuException fault, int suspects)
{
    public enum Role
    {
        /// <summary>The one step that could have caused the fault.</summary>
        Culprit,

        /// <summary>One of several steps that could have caused it.</summary>
        Suspect,

        /// <summary>Being queued, with none of its ops on the device yet: it cannot have caused it.</summary>
        Queuing,

        /// <summary>On the device when the fault was pinned on another step.</summary>
        Bystander,
    }

    public int Suspects => suspects;

    /// <summary>
    /// What the steps that could have caused the fault are: the culprit when there is one, except
    /// after a fault no kernel raises (<see cref="GpuStatus.ContextLost"/>: the MPS server ended
    /// the client, an external device failed), which no step caused.
    /// </summary>
    public Role SuspectRole => suspects == 1 && fault.Status != GpuStatus.ContextLost ? Role.Culprit : Role.Suspect;

    public List<(Step Step, SessionState Session, Role Role)> Steps { get; } = [];

    /// <summary>
    /// What a step is told: the culprit <see cref="EngineError.KernelFault"/>, or
    /// <see cref="EngineError.StepTimedOut"/> after a timeout, rebuilt or not, since sending it
    /// again would do the same to the next device; the others a retryable
    /// <see cref="EngineError.DeviceReset"/> when the device was rebuilt, else
    /// <see cref="EngineError.DeviceLost"/>; <paramref name="lost"/> is why it did not come back.
    /// </summary>
    public (EngineError Error, string Message) OutcomeOf(Role role, string? lost) => (role, lost) switch
    {
        (Role.Culprit, null) when IsTimeout => (EngineError.StepTimedOut, $"{fault.Message}. The device was reset to end it; handles stay valid, buffer contents are lost (zeroed)"),
        (Role.Culprit, _) when IsTimeout => (EngineError.StepTimedOut, $"{fault.Message}. The device was reset to end it, could not be set up again ({lost}) and is lost"),
        (Role.Bystander, null) => (EngineError.DeviceReset, $"the device was reset under this step because another step {(IsTimeout ? "ran past its time limit" : "faulted it")}; retry. Handles stay valid, buffer contents are lost (zeroed)"),
        (Role.Culprit, null) => (EngineError.KernelFault, $"the step faulted the device: {fault.Message}. The device was reset; handles stay valid, buffer contents are lost (zeroed)"),
        (Role.Culprit, _) => (EngineError.KernelFault, $"the step faulted the device: {fault.Message}. The device could not be set up again ({lost}) and is lost"),
        (Role.Suspect, null) when IsTimeout => (EngineError.DeviceReset, $"the device was reset because {fault.Message}, with {suspects} steps on it, and the device cannot say which of them held it; retry. Handles stay valid, buffer contents are lost (zeroed)"),
        (Role.Suspect, null) => (EngineError.DeviceReset, $"the device was reset after a fault ({fault.Status}) with {suspects} steps on it, which cannot be pinned on one of them; retry. Handles stay valid, buffer contents are lost (zeroed)"),
        (Role.Queuing, null) => (EngineError.DeviceReset, "the device was reset after a fault while this step was being queued; retry"),
        _ => (EngineError.DeviceLost, $"the device faulted ({fault.Status}) under this step and could not be set up again ({lost}): it is lost, with everything the session held"),
    };

    private bool IsTimeout => fault.Status == GpuStatus.LaunchTimeout;
}
