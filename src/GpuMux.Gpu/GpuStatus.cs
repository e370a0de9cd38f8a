namespace GpuMux.Gpu;

/// <summary>
/// The outcome of a GPU operation, the same on every backend. The CUDA backend maps each
/// <c>CUresult</c> onto one of these; the Sim backend raises them directly.
/// </summary>
public enum GpuStatus
{
    Success = 0,
    OutOfMemory,
    InvalidValue,
    InvalidHandle,
    NotReady,
    NotFound,
    NotSupported,
    NoDevice,
    InvalidImage,
    CompileFailed,
    LaunchOutOfResources,
    HostMemoryAlreadyRegistered,
    HostMemoryNotRegistered,
    AlreadyMapped,
    NotMapped,

    // Faults raised by a running kernel. CUDA treats these as sticky: the context is unusable
    // until it is destroyed and created again.
    IllegalAddress,
    KernelFault,
    LaunchTimeout,

    // Raised by no kernel, yet as sticky: the MPS server ended this client, or an external device
    // signalled that data it shared is invalid.
    ContextLost,

    Unknown,
}
