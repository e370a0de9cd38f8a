"""Writing the safetensors files that :meth:`Client.register_model` takes (docs/protocol.md §4.5), with the standard library alone."""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Any

from ._interop import as_bytes_view

_ITEM_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
_NUMPY_DTYPES = {
    "bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "uint16": "U16", "float16": "F16",
    "int32": "I32", "uint32": "U32", "float32": "F32", "int64": "I64", "uint64": "U64", "float64": "F64",
}  # fmt: skip


def save(path: str | os.PathLike[str], tensors: dict[str, Any], metadata: dict[str, str] | None = None) -> None:
    """Writes ``tensors`` to ``path`` in file order. Each value is a NumPy array, or a tuple
    ``(dtype, shape, data)`` with a safetensors dtype name (``"F32"``, ``"BF16"``...) and any
    buffer-protocol object holding the little-endian data."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    parts = []
    offset = 0
    for name, value in tensors.items():
        dtype, shape, data = _entry(name, value)
        size = len(data)
        expected = math.prod(shape) * _ITEM_BYTES[dtype]
        if size != expected:
            raise ValueError(f"tensor {name!r}: {size} bytes of data for shape {list(shape)} of {dtype} ({expected})")
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        parts.append(data)
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for data in parts:
            file.write(data)


def _entry(name: str, value: Any) -> tuple[str, tuple[int, ...], memoryview]:
    if isinstance(value, tuple):
        dtype, shape, data = value
        if dtype not in _ITEM_BYTES:
            raise ValueError(f"tensor {name!r}: {dtype!r} is not a safetensors dtype")
        return dtype, tuple(shape), as_bytes_view(data)
    dtype = _NUMPY_DTYPES.get(str(getattr(value, "dtype", "")))
    if dtype is None:
        raise TypeError(f"tensor {name!r}: give a NumPy array of a safetensors dtype, or (dtype, shape, data)")
    if value.dtype.byteorder == ">":
        raise ValueError(f"tensor {name!r}: safetensors data is little-endian")
    return dtype, tuple(value.shape), as_bytes_view(value)
