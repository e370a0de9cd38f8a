namespace GpuMux.Protocol;

/// <summary>
/// The type field of a frame. Requests go from client to daemon; a reply carries its request's
/// type with the high bit set, and echoes the request id.
/// </summary>
public enum MessageType : ushort
{
    Hello = 0x0001,
    RegisterRegion = 0x0002,
    ReleaseRegion = 0x0003,
    AllocateBuffer = 0x0004,
    FreeBuffer = 0x0005,
    LoadModule = 0x0006,
    UnloadModule = 0x0007,
    GetFunction = 0x0008,
    SubmitStep = 0x0009,
    GetStatus = 0x000A,
    RegisterModel = 0x000B,
    UnregisterModel = 0x000C,
    GetTensor = 0x000D,
    ListModels = 0x000E,
    AcquireLease = 0x0011,
    ReleaseLease = 0x0012,
    GetLease = 0x0013,
    GetTenants = 0x0014,

    Ok = 0x8000,
    Welcome = 0x8001,
    RegionRegistered = 0x8002,
    BufferAllocated = 0x8004,
    ModuleLoaded = 0x8006,
    FunctionFound = 0x8008,
    StepCompleted = 0x8009,
    StatusReport = 0x800A,
    ModelRegistered = 0x800B,
    TensorFound = 0x800D,
    ModelList = 0x800E,

    /// <summary>Sent zero or more times while a RegisterModel stages its weights, before its reply.</summary>
    ModelProgress = 0x8010,
    LeaseGranted = 0x8011,
    LeaseReport = 0x8013,
    TenantReport = 0x8014,
    Error = 0x80FF,
}
