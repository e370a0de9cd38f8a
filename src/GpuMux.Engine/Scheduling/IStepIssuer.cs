using GpuMux.Engine.Device;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Scheduling;

/// <summary>
/// Where the scheduler hands the steps it issues: the dispatcher, in the engine. Behind an
/// interface so that the scheduler's decisions can be measured without a device.
/// </summary>
internal interface IStepIssuer
{
    /// <summary>Some issued step waits for room or for its model before it can start.</summary>
    bool HasWaiting { get; }

    void Submit(Step step, SessionState session, DeviceContext device);

    /// <summary>Runs <paramref name="release"/> now, or once the session's issued steps waiting to start have started; true when it was deferred.</summary>
    bool ReleaseAfterWaitingSteps(SessionState session, Action release);
}
