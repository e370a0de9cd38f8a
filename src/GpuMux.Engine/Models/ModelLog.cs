using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Models;

internal static partial class ModelLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Session {SessionId} registered model {Model} ({Name}): {Tensors} tensors, {Bytes} bytes in {Groups} layer groups, {Tier} tier")]
    public static partial void Registered(ILogger logger, long sessionId, uint model, string name, int tensors, ulong bytes, int groups, ModelTier tier);

    [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "Model {Name} of session {SessionId} released")]
    public static partial void Released(ILogger logger, string name, long sessionId);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "Model {Name} of session {SessionId} evicted from the device pool ({Bytes} bytes)")]
    public static partial void Evicted(ILogger logger, string name, long sessionId, ulong bytes);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "A swap-in of model {Name} of session {SessionId} failed: {Reason}")]
    public static partial void SwapFailed(ILogger logger, string name, long sessionId, string reason);

    [LoggerMessage(EventId = 404, Level = LogLevel.Debug, Message = "Model {Name} of session {SessionId} swapping in ahead of its step")]
    public static partial void Prefetching(ILogger logger, string name, long sessionId);
}
