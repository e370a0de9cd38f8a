"""Steps: ops the daemon runs on the GPU as one unit (docs/protocol.md §4.4), built fluently."""

from __future__ import annotations

import asyncio
import struct
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _interop, _wire
from .errors import GpuMuxError, error_for
from .region import Region, RegionSlice
from .resources import Buffer, BufferView, Function, Model, Scalar, Tensor

if TYPE_CHECKING:
    from ._connection import Reply
    from .client import Client

Dim = int | tuple[int] | tuple[int, int] | tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class StepResult:
    """A completed step's times, in nanoseconds of ``CLOCK_MONOTONIC`` (``time.monotonic_ns()``)."""

    queued_at_ns: int
    started_at_ns: int
    ended_at_ns: int

    @property
    def gpu_ns(self) -> int:
        """Time on the GPU, from its first op's start to its last op's end."""
        return self.ended_at_ns - self.started_at_ns

    @property
    def queue_ns(self) -> int:
        """Time from the daemon's accepting the step to its start on the GPU."""
        return self.started_at_ns - self.queued_at_ns


class Step:
    """A list of ops, run in order on the GPU. Each method appends one and returns the step, so a
    step reads as a chain; :meth:`run` waits for it, :meth:`run_async` awaits it, :meth:`submit`
    returns a future. A step may be run again (say, in a loop): it is sent as built."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._ops: list[bytes] = []
        self._model: Model | None = None
        self._schedule: bytes | None = None
        self._payload: bytes | None = None

    def __len__(self) -> int:
        return len(self._ops)

    def copy_in(self, buffer: Buffer | BufferView, source: Region | RegionSlice, nbytes: int | None = None) -> Step:
        """Copies ``nbytes`` from ``source`` (a region or part of one) into ``buffer``; by default
        the length of ``source`` when it is a part, else of ``buffer``."""
        region, region_offset, length = _region_side(source, buffer, nbytes)
        handle, buffer_offset = _buffer_side(buffer)
        return self._append(struct.pack("<BIQIQQ", _wire.OP_COPY_IN, region, region_offset, handle, buffer_offset, length))

    def copy_out(self, buffer: Buffer | BufferView, target: Region | RegionSlice, nbytes: int | None = None) -> Step:
        """Copies ``nbytes`` from ``buffer`` into ``target`` (a region or part of one); lengths as :meth:`copy_in`."""
        region, region_offset, length = _region_side(target, buffer, nbytes)
        handle, buffer_offset = _buffer_side(buffer)
        return self._append(struct.pack("<BIQIQQ", _wire.OP_COPY_OUT, handle, buffer_offset, region, region_offset, length))

    def launch(self, function: Function, grid: Dim, block: Dim, *args: Any, shared_memory: int = 0) -> Step:
        """Launches ``function`` over ``grid`` blocks of ``block`` threads (ints or up to three dims).

        Arguments: a :class:`Buffer` or ``buffer[offset:]`` (a pointer), a model's :class:`Tensor`
        (binds the step to its model), a :class:`Scalar` (``gpumux.f32(0.5)``), a NumPy scalar, or a
        plain int or float where the function's parameter kinds are known.
        """
        if function.params is not None and len(args) != len(function.params):
            raise TypeError(f"{function.name} takes {len(function.params)} arguments, not {len(args)}")
        encoded = [self._argument(function, index, value) for index, value in enumerate(args)]
        head = struct.pack("<BI3I3IIB", _wire.OP_LAUNCH, function.handle, *_dims(grid), *_dims(block), shared_memory, len(args))
        return self._append(head + b"".join(encoded))

    def use_model(self, model: Model) -> Step:
        """Binds the step to ``model`` (made resident before the step runs); a tensor argument does so itself."""
        if self._model is not None and self._model is not model:
            raise ValueError(f"the step already uses model {self._model.name!r}; a step binds one model")
        self._model = model
        self._payload = None
        return self

    def schedule(self, deadline_ns: int = 0, *, fail_if_late: bool = False, ends_request: bool = False) -> Step:
        """Tells the scheduler when the step should start (``CLOCK_MONOTONIC`` ns, as ``time.monotonic_ns()``)."""
        if deadline_ns < 0:
            raise ValueError("a deadline is 0 (none) or a CLOCK_MONOTONIC time in nanoseconds")
        flags = (1 if fail_if_late else 0) | (2 if ends_request else 0)
        self._schedule = struct.pack("<BqB", _wire.OP_SCHEDULE, deadline_ns, flags)
        self._payload = None
        return self

    def submit(self) -> Future[StepResult]:
        """Sends the step; the future gives its :class:`StepResult`, or raises its :class:`GpuMuxError`."""
        result: Future[StepResult] = Future()
        self._client._submit(self.payload()).add_done_callback(lambda reply: _complete(reply, result))
        return result

    def run(self, timeout: float | None = None) -> StepResult:
        """Sends the step and waits for it to complete."""
        return self.submit().result(timeout)

    async def run_async(self) -> StepResult:
        """Sends the step and awaits its completion; many steps may be in flight on one client."""
        return await asyncio.wrap_future(self.submit())

    def payload(self) -> bytes:
        """The ``SubmitStep`` payload as the daemon will read it."""
        if self._payload is None:
            prefix = []
            if self._model is not None:
                prefix.append(struct.pack("<BI", _wire.OP_USE_MODEL, self._model.handle))
            if self._schedule is not None:
                prefix.append(self._schedule)
            ops = prefix + self._ops
            if len(ops) > 0xFFFF:
                raise ValueError(f"{len(ops)} ops do not fit a step")
            self._payload = struct.pack("<HH", 0, len(ops)) + b"".join(ops)
        return self._payload

    def _append(self, op: bytes) -> Step:
        self._ops.append(op)
        self._payload = None
        return self

    def _argument(self, function: Function, index: int, value: Any) -> bytes:
        if isinstance(value, Buffer | BufferView):
            return struct.pack("<BIQ", _wire.ARG_BUFFER, value.handle, value.offset)
        if isinstance(value, Tensor):
            self.use_model(value.model)
            return struct.pack("<BIQ", _wire.ARG_TENSOR, value.handle, value.offset)
        if isinstance(value, Scalar):
            return _scalar(value.kind, value.value)
        kind = _interop.numpy_scalar_kind(value)
        if kind is not None:
            return _scalar(kind, value.item())
        expected = function.params[index] if function.params is not None else None
        if isinstance(value, int | float) and not isinstance(value, bool) and expected not in (None, _wire.ARG_BUFFER):
            return _scalar(expected, value)
        what = "a buffer or tensor" if expected == _wire.ARG_BUFFER else "a gpumux.i32/u32/i64/u64/f32/f64 scalar"
        raise TypeError(f"argument {index} of {function.name} ({value!r}) must be {what}")


def _scalar(kind: int, value: int | float) -> bytes:
    return struct.pack("<B", kind) + struct.pack(_wire.SCALAR_FORMATS[kind], value)


def _dims(value: Dim) -> tuple[int, int, int]:
    dims = (value,) if isinstance(value, int) else tuple(value)
    if not 1 <= len(dims) <= 3:
        raise ValueError(f"{value!r} is not 1 to 3 dimensions")
    return (*dims, *(1,) * (3 - len(dims)))  # type: ignore[return-value]


def _buffer_side(buffer: Buffer | BufferView) -> tuple[int, int]:
    return buffer.handle, buffer.offset


def _region_side(side: Region | RegionSlice, buffer: Buffer | BufferView, nbytes: int | None) -> tuple[int, int, int]:
    if isinstance(side, RegionSlice):
        return side.region.handle, side.offset, side.nbytes if nbytes is None else nbytes
    if isinstance(side, Region):
        return side.handle, 0, buffer.nbytes if nbytes is None else nbytes
    raise TypeError(f"a copy goes through a region (gpumux.Region or region[a:b]), not {type(side).__name__}: write the data into one first")


def _complete(reply: Future[Reply], result: Future[StepResult]) -> None:
    error = reply.exception()
    if error is not None:
        result.set_exception(error)
        return
    reader = _wire.Reader(reply.result().payload)
    status = reader.u16()
    times = StepResult(reader.i64(), reader.i64(), reader.i64())
    message = reader.string()
    if status == 0:
        result.set_result(times)
    else:
        failure: GpuMuxError = error_for(status, message, times)
        result.set_exception(failure)
