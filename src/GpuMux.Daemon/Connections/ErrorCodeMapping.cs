using GpuMux.Engine;
using GpuMux.Protocol;

namespace GpuMux.Daemon.Connections;

/// <summary>The engine's failures as the wire names them.</summary>
internal static class ErrorCodeMapping
{
    public static ErrorCode ToWire(this EngineError error) => error switch
    {
        EngineError.None => ErrorCode.None,
        EngineError.UnknownHandle => ErrorCode.UnknownHandle,
        EngineError.InvalidArgument => ErrorCode.InvalidArgument,
        EngineError.OutOfMemory => ErrorCode.OutOfMemory,
        EngineError.QuotaExceeded => ErrorCode.QuotaExceeded,
        EngineError.CompileFailed => ErrorCode.CompileFailed,
        EngineError.ModuleLoadFailed => ErrorCode.ModuleLoadFailed,
        EngineError.UnknownFunction => ErrorCode.UnknownFunction,
        EngineError.KernelFault => ErrorCode.KernelFault,
        EngineError.DeviceReset => ErrorCode.DeviceReset,
        EngineError.BadDescriptor => ErrorCode.BadDescriptor,
        EngineError.TooManyInFlight => ErrorCode.TooManyInFlight,
        EngineError.ShuttingDown => ErrorCode.ShuttingDown,
        EngineError.InvalidModel => ErrorCode.InvalidModel,
        EngineError.ModelTooLarge => ErrorCode.ModelTooLarge,
        EngineError.UnknownTensor => ErrorCode.UnknownTensor,
        EngineError.DeadlineMissed => ErrorCode.DeadlineMissed,
        EngineError.LeaseExpired => ErrorCode.LeaseExpired,
        EngineError.DeviceLost => ErrorCode.DeviceLost,
        EngineError.PermissionDenied => ErrorCode.PermissionDenied,
        EngineError.StepTimedOut => ErrorCode.StepTimedOut,
        EngineError.ProtocolViolation => ErrorCode.ProtocolViolation,
        _ => ErrorCode.Internal,
    };
}
