using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Threading;

internal static partial class EngineLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Engine started on {Device} ({Backend})")]
    public static partial void Started(ILogger logger, string device, string backend);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Engine stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "A request failed unexpectedly")]
    public static partial void RequestFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "A work item of the engine thread failed unexpectedly")]
    public static partial void WorkFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 104, Level = LogLevel.Critical, Message = "The engine thread failed; the engine has stopped")]
    public static partial void ThreadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Tenant limits updated ({Overrides} uids with limits of their own)")]
    public static partial void TenantLimitsUpdated(ILogger logger, int overrides);
}
