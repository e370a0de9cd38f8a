using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Sessions;

/// <summary>Each session's one line as it opens and one as it closes, naming its client, pid and uid: the daemon logs none of its own.</summary>
internal static partial class SessionLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Session {SessionId} opened for {ClientName} (pid {Pid}, uid {Uid})")]
    public static partial void Opened(ILogger logger, long sessionId, string clientName, int pid, uint uid);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Session {SessionId} of {ClientName} (pid {Pid}, uid {Uid}) closed, its memory released: {Completed} steps completed, {Failed} failed")]
    public static partial void Closed(ILogger logger, long sessionId, string clientName, int pid, uint uid, long completed, long failed);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug, Message = "Session {SessionId} closing: waiting for {Steps} steps on the device")]
    public static partial void CloseWaiting(ILogger logger, long sessionId, int steps);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "The completion sink of session {SessionId} threw; the completion is lost")]
    public static partial void SinkFailed(ILogger logger, long sessionId, Exception exception);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information, Message = "Session {SessionId} took lease {Lease} in class {Class}")]
    public static partial void LeaseAcquired(ILogger logger, long sessionId, uint lease, string @class);

    [LoggerMessage(EventId = 205, Level = LogLevel.Information, Message = "Lease {Lease} of session {SessionId} ran out after {GpuSeconds:F3} GPU seconds: its queued steps fail and its buffers are freed")]
    public static partial void LeaseExpired(ILogger logger, long sessionId, uint lease, double gpuSeconds);

    [LoggerMessage(EventId = 206, Level = LogLevel.Debug, Message = "Session {SessionId} released lease {Lease}")]
    public static partial void LeaseReleased(ILogger logger, long sessionId, uint lease);

    [LoggerMessage(EventId = 207, Level = LogLevel.Warning, Message = "Session {SessionId} of uid {Uid} was refused a module: the tenant may run the built-in kernels only (Tenants Kernels is builtin); the session's later refusals are not logged")]
    public static partial void ModuleRefused(ILogger logger, long sessionId, uint uid);
}
