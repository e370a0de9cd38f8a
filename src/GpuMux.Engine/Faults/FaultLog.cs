using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Faults;

internal static partial class FaultLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Device fault {Status} with {Suspects} steps that could have caused it; resetting the device: {Detail}")]
    public static partial void DeviceFaulted(ILogger logger, GpuStatus status, int suspects, string detail);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Device reset: a new context computed its check correctly and holds the built-in kernels and the modules, regions and buffers of {Sessions} sessions again (buffers zeroed)")]
    public static partial void DeviceRebuilt(ILogger logger, int sessions);

    [LoggerMessage(EventId = 302, Level = LogLevel.Critical, Message = "Device lost: after a fault it could not be set up again (the reset, a new context or the new context's check failed); everything registered is gone, and every step and request fails with DeviceLost until the engine is restarted")]
    public static partial void RebuildFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Step {RequestId} of session {SessionId} has been on the device past its class's limit: {Detail}; resetting the device to end it")]
    public static partial void StepTimedOut(ILogger logger, uint requestId, long sessionId, string detail);
}
