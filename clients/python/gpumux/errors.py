"""Exceptions: one class per error code of docs/protocol.md §6, all under :class:`GpuMuxError`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .step import StepResult


class GpuMuxError(Exception):
    """A request or step that gpumuxd refused or failed.

    ``code`` is the protocol's error code (§6), ``None`` when the connection itself is gone.
    ``step`` holds the failed step's times when the error came in a ``StepCompleted``.
    """

    code: ClassVar[int | None] = None
    retryable: ClassVar[bool] = False
    closes_connection: ClassVar[bool] = False

    def __init__(self, message: str, *, code: int | None = None, step: StepResult | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance's code, for codes this client does not know
        self.step = step

    def __str__(self) -> str:
        return f"{type(self).__name__} ({self.code}): {self.message}" if self.code is not None else self.message


class ConnectionLost(GpuMuxError):
    """The connection to gpumuxd is closed: no daemon listens, it hung up, or the client was closed."""


_BY_CODE: dict[int, type[GpuMuxError]] = {}


def _code(code: int, *, retryable: bool = False, closes: bool = False):  # type: ignore[no-untyped-def]
    def register(cls: type[GpuMuxError]) -> type[GpuMuxError]:
        cls.code = code
        cls.retryable = retryable
        cls.closes_connection = closes
        _BY_CODE[code] = cls
        return cls

    return register


@_code(1)
class MalformedFrame(GpuMuxError):
    """A payload the daemon could not decode."""


@_code(2, closes=True)
class FrameTooLarge(GpuMuxError):
    """A frame over the daemon's payload limit."""


@_code(3, closes=True)
class UnsupportedVersion(GpuMuxError):
    """The daemon does not speak protocol major version 1."""


@_code(4)
class HandshakeRequired(GpuMuxError):
    """A request before ``Hello``, or a second ``Hello``."""


@_code(5)
class UnknownMessage(GpuMuxError):
    """A message type the daemon does not take as a request."""


@_code(6)
class BadDescriptor(GpuMuxError):
    """A file descriptor that is not what the request needs (a sealable memfd, a regular file)."""


@_code(7)
class UnknownHandle(GpuMuxError):
    """A region, buffer, module, function or model this session does not have."""


@_code(8)
class InvalidArgument(GpuMuxError):
    """A size, offset, launch or lease the daemon refuses."""


@_code(9, retryable=True)
class OutOfMemory(GpuMuxError):
    """The device has no room for the buffer now."""


@_code(10)
class QuotaExceeded(GpuMuxError):
    """The session, its tenant or its lease is at a configured limit."""


@_code(11)
class CompileFailed(GpuMuxError):
    """The CUDA C source did not compile; the message carries the compiler's log."""


@_code(12)
class ModuleLoadFailed(GpuMuxError):
    """The driver refused the PTX or cubin."""


@_code(13)
class UnknownFunction(GpuMuxError):
    """No kernel of that name in the module."""


@_code(14)
class KernelFault(GpuMuxError):
    """The step's kernel faulted on the device."""


@_code(15, retryable=True)
class DeviceReset(GpuMuxError):
    """The device was reset: buffers read as zero; put back what they held and retry."""


@_code(16, retryable=True)
class TooManyInFlight(GpuMuxError):
    """The session has its maximum of steps in flight; retry once one completes."""


@_code(17, closes=True)
class ShuttingDown(GpuMuxError):
    """The daemon is stopping."""


@_code(18)
class Internal(GpuMuxError):
    """A bug in the daemon."""


@_code(19, closes=True)
class ProtocolViolation(GpuMuxError):
    """The client broke the protocol and the daemon closed the session."""


@_code(20, retryable=True, closes=True)
class TooManySessions(GpuMuxError):
    """The daemon is at its session limit."""


@_code(21)
class InvalidModel(GpuMuxError):
    """The model's file is not valid safetensors."""


@_code(22)
class ModelTooLarge(GpuMuxError):
    """The model is larger than the daemon's whole device pool."""


@_code(23)
class UnknownTensor(GpuMuxError):
    """No tensor of that name in the model."""


@_code(24)
class DeadlineMissed(GpuMuxError):
    """A ``fail_if_late`` step whose deadline passed before it could start."""


@_code(25)
class LeaseExpired(GpuMuxError):
    """The session's lease ran out; release it and take another to go on."""


@_code(26)
class DeviceLost(GpuMuxError):
    """The daemon could not set its GPU up again and is exiting; reconnect to its successor."""


@_code(27)
class PermissionDenied(GpuMuxError):
    """The tenant may not do this (load modules; anything but reports in an inspecting session)."""


@_code(28)
class StepTimedOut(GpuMuxError):
    """The step ran on the GPU past its class's limit and the GPU was reset to end it."""


def error_for(code: int, message: str, step: StepResult | None = None) -> GpuMuxError:
    """The exception for ``code``; a code this client does not know is a plain :class:`GpuMuxError`, as §7 asks."""
    cls = _BY_CODE.get(code)
    return cls(message, step=step) if cls is not None else GpuMuxError(message, code=code, step=step)


__all__ = ["GpuMuxError", "ConnectionLost", "error_for"] + [cls.__name__ for cls in _BY_CODE.values()]
