"""Bytes from and to Python's buffer protocol, NumPy and PyTorch; the last two are imported only when asked for."""

from __future__ import annotations

import math
from typing import Any


def as_bytes_view(data: Any, writable: bool = False) -> memoryview:
    """A flat byte view of any C-contiguous buffer-protocol object, without a copy."""
    view = memoryview(data)
    if not view.c_contiguous:
        raise ValueError("the data is not C-contiguous: copy it into a contiguous array first")
    if writable and view.readonly:
        raise ValueError("the target is read-only")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def numpy_view(mapping: Any, dtype: Any, shape: Any, offset: int, nbytes: int | None = None) -> Any:
    import numpy

    dtype = numpy.dtype(dtype)
    if shape is None:
        count = ((len(mapping) - offset) if nbytes is None else nbytes) // dtype.itemsize
        shape = (count,)
    elif isinstance(shape, int):
        shape = (shape,)
    count = math.prod(shape)
    if nbytes is not None and count * dtype.itemsize > nbytes:
        raise ValueError(f"{count} elements of {dtype} do not fit in {nbytes} bytes")
    return numpy.frombuffer(mapping, dtype=dtype, count=count, offset=offset).reshape(shape)


def torch_view(mapping: Any, dtype: Any, shape: Any, offset: int, nbytes: int | None = None) -> Any:
    import torch

    itemsize = torch.empty((), dtype=dtype).element_size()
    if shape is None:
        shape = (((len(mapping) - offset) if nbytes is None else nbytes) // itemsize,)
    elif isinstance(shape, int):
        shape = (shape,)
    count = math.prod(shape)
    if nbytes is not None and count * itemsize > nbytes:
        raise ValueError(f"{count} elements of {dtype} do not fit in {nbytes} bytes")
    return torch.frombuffer(mapping, dtype=dtype, count=count, offset=offset).reshape(shape)


def numpy_scalar_kind(value: Any) -> int | None:
    """The launch argument kind of a NumPy scalar (``numpy.float32(1)``), or None for anything else."""
    dtype = getattr(value, "dtype", None)
    if dtype is None or type(value).__module__ != "numpy" or getattr(value, "ndim", 1) != 0:
        return None
    from . import _wire

    return {
        "int32": _wire.ARG_I32,
        "uint32": _wire.ARG_U32,
        "int64": _wire.ARG_I64,
        "uint64": _wire.ARG_U64,
        "float32": _wire.ARG_F32,
        "float64": _wire.ARG_F64,
    }.get(str(dtype))
