using GpuMux.Protocol;

namespace GpuMux.Client;

/// <summary>
/// The daemon refused a request or failed a step, with one of the error codes of
/// docs/protocol.md §6. Each code has its own subclass, so callers catch what they can handle.
/// </summary>
public abstract class GpuMuxException(ErrorCode code, string message) : Exception(message)
{
    /// <summary>The protocol's error code, as the daemon sent it.</summary>
    public ErrorCode Code { get; } = code;

    /// <summary>Whether the same request, sent again later unchanged, can succeed.</summary>
    public bool IsRetryable => Code.IsRetryable();

    /// <summary>The exception of <paramref name="code"/>'s own subclass; an <see cref="UnrecognizedErrorException"/> for a code this client does not know.</summary>
    public static GpuMuxException For(ErrorCode code, string message) => code switch
    {
        ErrorCode.MalformedFrame => new MalformedFrameException(message),
        ErrorCode.FrameTooLarge => new FrameTooLargeException(message),
        ErrorCode.UnsupportedVersion => new UnsupportedVersionException(message),
        ErrorCode.HandshakeRequired => new HandshakeRequiredException(message),
        ErrorCode.UnknownMessage => new UnknownMessageException(message),
        ErrorCode.BadDescriptor => new BadDescriptorException(message),
        ErrorCode.UnknownHandle => new UnknownHandleException(message),
        ErrorCode.InvalidArgument => new InvalidArgumentException(message),
        ErrorCode.OutOfMemory => new DeviceOutOfMemoryException(message),
        ErrorCode.QuotaExceeded => new QuotaExceededException(message),
        ErrorCode.CompileFailed => new CompileFailedException(message),
        ErrorCode.ModuleLoadFailed => new ModuleLoadFailedException(message),
        ErrorCode.UnknownFunction => new UnknownFunctionException(message),
        ErrorCode.KernelFault => new KernelFaultException(message),
        ErrorCode.DeviceReset => new DeviceResetException(message),
        ErrorCode.TooManyInFlight => new TooManyInFlightException(message),
        ErrorCode.ShuttingDown => new ShuttingDownException(message),
        ErrorCode.Internal => new DaemonInternalException(message),
        ErrorCode.ProtocolViolation => new ProtocolViolationException(message),
        ErrorCode.TooManySessions => new TooManySessionsException(message),
        ErrorCode.InvalidModel => new InvalidModelException(message),
        ErrorCode.ModelTooLarge => new ModelTooLargeException(message),
        ErrorCode.UnknownTensor => new UnknownTensorException(message),
        ErrorCode.DeadlineMissed => new DeadlineMissedException(message),
        ErrorCode.LeaseExpired => new LeaseExpiredException(message),
        ErrorCode.DeviceLost => new DeviceLostException(message),
        ErrorCode.PermissionDenied => new PermissionDeniedException(message),
        ErrorCode.StepTimedOut => new StepTimedOutException(message),
        ErrorCode.None => throw new ArgumentOutOfRangeException(nameof(code), code, "0 is success, not an error"),
        _ => new UnrecognizedErrorException(code, message),
    };
}

/// <summary>A request whose payload the daemon could not decode; a bug in the client.</summary>
public sealed class MalformedFrameException(string message) : GpuMuxException(ErrorCode.MalformedFrame, message);

/// <summary>A frame over the daemon's payload limit; the daemon closed the connection.</summary>
public sealed class FrameTooLargeException(string message) : GpuMuxException(ErrorCode.FrameTooLarge, message);

/// <summary>The daemon speaks another major version of the protocol; it closed the connection.</summary>
public sealed class UnsupportedVersionException(string message) : GpuMuxException(ErrorCode.UnsupportedVersion, message);

/// <summary>A request before Hello, or a second Hello.</summary>
public sealed class HandshakeRequiredException(string message) : GpuMuxException(ErrorCode.HandshakeRequired, message);

/// <summary>A message type the daemon does not take as a request.</summary>
public sealed class UnknownMessageException(string message) : GpuMuxException(ErrorCode.UnknownMessage, message);

/// <summary>A descriptor the daemon refused: not a memfd or regular file, a region's file it cannot seal against shrinking, one it cannot map or read, or shorter than stated.</summary>
public sealed class BadDescriptorException(string message) : GpuMuxException(ErrorCode.BadDescriptor, message);

/// <summary>A handle that names nothing the request or step can use: a region, buffer, module, function, model or tensor this session does not have, or a tensor of another model than the step's.</summary>
public sealed class UnknownHandleException(string message) : GpuMuxException(ErrorCode.UnknownHandle, message);

/// <summary>A value the daemon refused: a size of 0 or over a limit, a copy or an argument outside its buffer, a launch the driver or a built-in kernel's signature refuses, a repeated model name.</summary>
public sealed class InvalidArgumentException(string message) : GpuMuxException(ErrorCode.InvalidArgument, message);

/// <summary>The device has no room for the buffer; retryable once other sessions free memory.</summary>
public sealed class DeviceOutOfMemoryException(string message) : GpuMuxException(ErrorCode.OutOfMemory, message);

/// <summary>The session or its uid is at a configured limit (bytes, buffers, regions, modules, leases, a class, GPU time today), or its lease's memory is spent.</summary>
public sealed class QuotaExceededException(string message) : GpuMuxException(ErrorCode.QuotaExceeded, message);

/// <summary>NVRTC rejected a CUDA C module; the message carries the compiler's log.</summary>
public sealed class CompileFailedException(string message) : GpuMuxException(ErrorCode.CompileFailed, message);

/// <summary>The driver refused the PTX or cubin, e.g. one built for another architecture.</summary>
public sealed class ModuleLoadFailedException(string message) : GpuMuxException(ErrorCode.ModuleLoadFailed, message);

/// <summary>No kernel of that name in the module.</summary>
public sealed class UnknownFunctionException(string message) : GpuMuxException(ErrorCode.UnknownFunction, message);

/// <summary>The step's kernel faulted on the device (an illegal address, a trap). The daemon reset the device; handles survive, buffer contents do not.</summary>
public sealed class KernelFaultException(string message) : GpuMuxException(ErrorCode.KernelFault, message);

/// <summary>The device was reset under the step; handles survive, buffer contents do not.</summary>
public sealed class DeviceResetException(string message) : GpuMuxException(ErrorCode.DeviceReset, message);

/// <summary>The session already has its maximum of steps in flight; retryable once one completes.</summary>
public sealed class TooManyInFlightException(string message) : GpuMuxException(ErrorCode.TooManyInFlight, message);

/// <summary>The daemon is stopping; steps that had not started fail with it.</summary>
public sealed class ShuttingDownException(string message) : GpuMuxException(ErrorCode.ShuttingDown, message);

/// <summary>A bug in the daemon (<see cref="ErrorCode.Internal"/>); the session carries on where it can.</summary>
public sealed class DaemonInternalException(string message) : GpuMuxException(ErrorCode.Internal, message);

/// <summary>The daemon closed the session because its client broke the protocol; the message says how.</summary>
public sealed class ProtocolViolationException(string message) : GpuMuxException(ErrorCode.ProtocolViolation, message);

/// <summary>The daemon is at its session limit; retryable later.</summary>
public sealed class TooManySessionsException(string message) : GpuMuxException(ErrorCode.TooManySessions, message);

/// <summary>The file registered as a model is not valid safetensors; the message names the tensor and the problem.</summary>
public sealed class InvalidModelException(string message) : GpuMuxException(ErrorCode.InvalidModel, message);

/// <summary>The model's weights are larger than the daemon's whole device pool, so it could never be made resident.</summary>
public sealed class ModelTooLargeException(string message) : GpuMuxException(ErrorCode.ModelTooLarge, message);

/// <summary>No tensor of that name in the model.</summary>
public sealed class UnknownTensorException(string message) : GpuMuxException(ErrorCode.UnknownTensor, message);

/// <summary>The step's deadline passed while it waited, and it asked to fail rather than run late.</summary>
public sealed class DeadlineMissedException(string message) : GpuMuxException(ErrorCode.DeadlineMissed, message);

/// <summary>
/// The session's lease has run out of GPU time or duration: its waiting steps failed, the buffers
/// allocated under it were freed, and steps fail until the session releases it and takes another.
/// </summary>
public sealed class LeaseExpiredException(string message) : GpuMuxException(ErrorCode.LeaseExpired, message);

/// <summary>
/// After a fault the daemon could not set its GPU up again: everything the session held is gone
/// (its regions, buffers, modules and models) and the daemon is exiting, for its service manager
/// to start it again. Not <see cref="GpuMuxException.IsRetryable"/>, since nothing sent on this
/// connection can succeed any more; connect again once the daemon is back, set the session up
/// again, and send the work again there.
/// </summary>
public sealed class DeviceLostException(string message) : GpuMuxException(ErrorCode.DeviceLost, message);

/// <summary>
/// The daemon's configuration does not give the client's uid the right the request needs:
/// loading a module (CUDA C, PTX or cubin) needs the tenant's <c>Kernels</c> to be
/// <c>trusted</c>; without it a session runs the built-in kernels only. Not retryable.
/// </summary>
public sealed class PermissionDeniedException(string message) : GpuMuxException(ErrorCode.PermissionDenied, message);

/// <summary>
/// The step was on the GPU longer than its class's limit allows; nothing stops a kernel but a
/// reset, so the daemon reset the GPU to end it. The session's
/// handles stay valid; its buffers read as zero. Not <see cref="GpuMuxException.IsRetryable"/>:
/// sent again, the same step would run as long.
/// </summary>
public sealed class StepTimedOutException(string message) : GpuMuxException(ErrorCode.StepTimedOut, message);

/// <summary>A code from a later minor version of the protocol than this client knows.</summary>
public sealed class UnrecognizedErrorException(ErrorCode code, string message) : GpuMuxException(code, message);

/// <summary>
/// The connection to the daemon is gone (closed by either side, reset, or a reply this client
/// cannot read); the request may or may not have run. Every later call fails the same way.
/// </summary>
public sealed class GpuMuxConnectionException(string message, Exception? innerException = null)
    : IOException(message, innerException);
