namespace GpuMux.Engine;

/// <summary>Why a request or a step failed. The values travel on the wire: append, never renumber.</summary>
public enum EngineError : ushort
{
    None = 0,

    /// <summary>A buffer, region, module, function, model or tensor handle the session does not own.</summary>
    UnknownHandle,
    InvalidArgument,

    /// <summary>The device has no room left.</summary>
    OutOfMemory,

    /// <summary>A per-session or per-tenant limit of <see cref="EngineOptions"/> would be exceeded.</summary>
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

    /// <summary>The engine, or the session, is closing (for a reason other than a protocol violation).</summary>
    ShuttingDown,
    Internal,

    /// <summary>The file given as a model is not a valid safetensors file; the message says what is wrong.</summary>
    InvalidModel,

    /// <summary>The model's weights need more device memory than the engine's whole device pool.</summary>
    ModelTooLarge,

    /// <summary>The model has no tensor of that name.</summary>
    UnknownTensor,

    /// <summary>The step's deadline passed before it could start, and it asked to be failed rather than run late.</summary>
    DeadlineMissed,

    /// <summary>The session's lease has run out (its device time or its duration): its steps fail until it takes a new one.</summary>
    LeaseExpired,

    /// <summary>
    /// After a fault the device could not be set up again (its reset, a new context or the check
    /// of what the new context computes failed): everything the engine held is gone, and every
    /// step and request fails with this until the engine is restarted.
    /// </summary>
    DeviceLost,

    /// <summary>The tenant lacks the right the request needs: loading a module needs <see cref="Tenants.KernelPolicy.Trusted"/>.</summary>
    PermissionDenied,

    /// <summary>
    /// The step was on the device longer than its class's limit allows; nothing stops a kernel but
    /// a reset, so the device was reset to end it.
    /// </summary>
    StepTimedOut,

    /// <summary>The session was closed because its client broke the protocol; its steps that had not run fail with this.</summary>
    ProtocolViolation,
}
