"""What a session holds on the daemon's side: buffers, kernels, models, and the typed scalars launches take."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _wire

if TYPE_CHECKING:
    from .client import Client


class Buffer:
    """Device memory of the session's (``AllocateBuffer``); contents start zeroed.

    ``buffer[offset:]`` or ``buffer[a:b]`` names a part of it, for a copy or a launch argument.
    """

    def __init__(self, client: Client, handle: int, nbytes: int) -> None:
        self._client = client
        self.handle = handle
        self.nbytes = nbytes
        self.offset = 0
        self._freed = False

    def __repr__(self) -> str:
        return f"Buffer(handle={self.handle}, nbytes={self.nbytes})"

    def __len__(self) -> int:
        return self.nbytes

    def __getitem__(self, key: slice) -> BufferView:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a buffer is sliced with [start:stop]")
        start, stop, _ = key.indices(self.nbytes)
        return BufferView(self, start, max(0, stop - start))

    def free(self) -> None:
        """Frees the buffer (after the steps in flight that use it)."""
        if not self._freed:
            self._freed = True
            self._client._free_buffer(self.handle)

    def __enter__(self) -> Buffer:
        return self

    def __exit__(self, *_: object) -> None:
        self.free()


@dataclass(frozen=True, slots=True)
class BufferView:
    """``nbytes`` bytes of a buffer from ``offset``."""

    buffer: Buffer
    offset: int
    nbytes: int

    @property
    def handle(self) -> int:
        return self.buffer.handle

    def __len__(self) -> int:
        return self.nbytes


@dataclass(frozen=True, slots=True)
class Scalar:
    """A launch argument of an explicit wire type: see :func:`i32`, :func:`u32`, :func:`i64`, :func:`u64`, :func:`f32`, :func:`f64`."""

    kind: int
    value: int | float


def i32(value: int) -> Scalar:
    """An ``int`` argument."""
    return Scalar(_wire.ARG_I32, value)


def u32(value: int) -> Scalar:
    """An ``unsigned int`` argument."""
    return Scalar(_wire.ARG_U32, value)


def i64(value: int) -> Scalar:
    """A ``long long`` argument."""
    return Scalar(_wire.ARG_I64, value)


def u64(value: int) -> Scalar:
    """An ``unsigned long long`` argument."""
    return Scalar(_wire.ARG_U64, value)


def f32(value: float) -> Scalar:
    """A ``float`` argument."""
    return Scalar(_wire.ARG_F32, value)


def f64(value: float) -> Scalar:
    """A ``double`` argument."""
    return Scalar(_wire.ARG_F64, value)


@dataclass(frozen=True, slots=True)
class Function:
    """A kernel to launch in a step. ``params`` are its parameters' argument kinds when the client
    knows them (the built-ins, or a signature it could read from CUDA C source); then plain Python
    ints and floats are converted to them, else they must be given as :class:`Scalar`."""

    handle: int
    name: str
    module: int
    params: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Module:
    """A module the session loaded (``LoadModule``)."""

    handle: int
    from_cache: bool
    compile_log: str


@dataclass(frozen=True, slots=True)
class Tensor:
    """A tensor of a registered model, passed to a launch as a pointer (from ``offset``)."""

    model: Model
    handle: int
    name: str
    nbytes: int
    group: int
    offset: int = 0

    def __getitem__(self, key: slice) -> Tensor:
        if not isinstance(key, slice) or key.step not in (None, 1) or key.stop is not None:
            raise TypeError("a tensor is sliced with [offset:]")
        start, _, _ = key.indices(self.nbytes)
        return Tensor(self.model, self.handle, self.name, self.nbytes, self.group, start)


class Model:
    """Weights registered from a safetensors file (``RegisterModel``), staged by the daemon."""

    def __init__(self, client: Client, handle: int, name: str, tensor_count: int, nbytes: int, tier: int, groups: int) -> None:
        self._client = client
        self.handle = handle
        self.name = name
        self.tensor_count = tensor_count
        self.nbytes = nbytes
        self.tier = "pinned" if tier == 1 else "file"
        self.groups = groups
        self._tensors: dict[str, Tensor] = {}

    def __repr__(self) -> str:
        return f"Model({self.name!r}, handle={self.handle}, tensors={self.tensor_count}, nbytes={self.nbytes}, tier={self.tier})"

    def tensor(self, name: str) -> Tensor:
        """The tensor of that name (``GetTensor``); :class:`~gpumux.errors.UnknownTensor` if there is none."""
        if name not in self._tensors:
            self._tensors[name] = self._client._get_tensor(self, name)
        return self._tensors[name]

    __getitem__ = tensor

    def unregister(self) -> None:
        """Releases the model (after the steps that use it finish)."""
        self._client._unregister_model(self.handle)


BUILTIN_SIGNATURES: dict[str, tuple[int, ...]] = {
    "fill_f32": (_wire.ARG_BUFFER, _wire.ARG_F32, _wire.ARG_U64),
    "axpy_f32": (_wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_F32, _wire.ARG_U64),
    "gemv_f32": (_wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_U32, _wire.ARG_U32),
    "gemv_f16": (_wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_U32, _wire.ARG_U32),
    "gemv_bf16": (_wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_BUFFER, _wire.ARG_U32, _wire.ARG_U32),
    "spin": (_wire.ARG_U64,),
    "checksum": (_wire.ARG_BUFFER, _wire.ARG_U64, _wire.ARG_BUFFER),
}

_SCALAR_TYPES = {
    "int": _wire.ARG_I32,
    "signed int": _wire.ARG_I32,
    "int32_t": _wire.ARG_I32,
    "unsigned": _wire.ARG_U32,
    "unsigned int": _wire.ARG_U32,
    "uint32_t": _wire.ARG_U32,
    "long long": _wire.ARG_I64,
    "long long int": _wire.ARG_I64,
    "int64_t": _wire.ARG_I64,
    "unsigned long long": _wire.ARG_U64,
    "unsigned long long int": _wire.ARG_U64,
    "uint64_t": _wire.ARG_U64,
    "size_t": _wire.ARG_U64,
    "float": _wire.ARG_F32,
    "double": _wire.ARG_F64,
}
_QUALIFIERS = re.compile(r"\b(const|volatile|__restrict__|__restrict|restrict)\b")


def signature_from_source(source: str, name: str) -> tuple[int, ...] | None:
    """The argument kinds of kernel ``name`` as its ``extern "C" __global__`` declaration in
    ``source`` spells them, or None where a parameter is not a pointer or one of the wire's scalars."""
    declaration = re.search(r"__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?" + re.escape(name) + r"\s*\(([^)]*)\)", source)
    if declaration is None:
        return None
    text = declaration.group(1).strip()
    if text in ("", "void"):
        return ()
    kinds = []
    for parameter in text.split(","):
        if "*" in parameter:
            kinds.append(_wire.ARG_BUFFER)
            continue
        words = _QUALIFIERS.sub(" ", parameter).split()
        # The last word is the parameter's name, unless the declaration leaves it out.
        for type_words in (words[:-1], words):
            kind = _SCALAR_TYPES.get(" ".join(type_words))
            if kind is not None:
                kinds.append(kind)
                break
        else:
            return None
    return tuple(kinds)
