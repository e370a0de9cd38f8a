namespace GpuMux.Engine;

/// <summary>Why a request or a step failed. The values travel on the wire: append, never renumber.</summary>
public enum EngineError : ushort
{
    None = 0,

    /// <summary>A buffer, region, module or function handle the session does not own.</summary>
    UnknownHandle,
    InvalidArgument,

    /// <summary>The device has no room left.</summary>
    OutOfMemory,

    /// <summary>A per-session limit of <see cref="EngineOptions"/> would be exceeded.</summary>
    QuotaExceeded,
    CompileFailed,
    ModuleLoadFailed,
    UnknownFunction,

    /// <summary>A kernel of this step faulted (an illegal address, say); the device was reset.</summary>
    KernelFault,

    /// <summary>The device was reset because of a fault the engine could not pin on this step; retrying is safe.</summary>
    DeviceReset,

    /// <summary>The descriptor of a region cannot be mapped, or its file is shorter than asked.</summary>
    BadDescriptor,
    TooManyInFlight,

    /// <summary>The engine, or the session, is closing.</summary>
    ShuttingDown,
    Internal,
}
