namespace GpuMux.Protocol;

/// <summary>The status of an Error frame or a completed step. docs/protocol.md says when each is sent.</summary>
public enum ErrorCode : ushort
{
    None = 0,
    MalformedFrame = 1,
    FrameTooLarge = 2,
    UnsupportedVersion = 3,
    HandshakeRequired = 4,
    UnknownMessage = 5,
    BadDescriptor = 6,
    UnknownHandle = 7,
    InvalidArgument = 8,
    OutOfMemory = 9,
    QuotaExceeded = 10,
    CompileFailed = 11,
    ModuleLoadFailed = 12,
    UnknownFunction = 13,
    KernelFault = 14,
    DeviceReset = 15,
    TooManyInFlight = 16,
    ShuttingDown = 17,
    Internal = 18,
    ProtocolViolation = 19,
    TooManySessions = 20,
    InvalidModel = 21,
    ModelTooLarge = 22,
    UnknownTensor = 23,
    DeadlineMissed = 24,
    LeaseExpired = 25,
    DeviceLost = 26,
    PermissionDenied = 27,
    StepTimedOut = 28,
}

public static class ErrorCodes
{
    /// <summary>Whether sending the same request again later can succeed without changing it.</summary>
    public static bool IsRetryable(this ErrorCode code) =>
        code is ErrorCode.DeviceReset or ErrorCode.TooManyInFlight or ErrorCode.OutOfMemory or ErrorCode.TooManySessions;

    /// <summary>Whether the daemon closes the connection after sending this error.</summary>
    public static bool ClosesConnection(this ErrorCode code) =>
        code is ErrorCode.FrameTooLarge or ErrorCode.UnsupportedVersion or ErrorCode.ProtocolViolation
            or ErrorCode.TooManySessions or ErrorCode.ShuttingDown;
}
