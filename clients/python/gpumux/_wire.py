"""The wire format of docs/protocol.md: frame headers, field encoding, message types."""

from __future__ import annotations

import struct
from typing import Final

MAGIC: Final = 0x58554D47
MAJOR: Final = 1
MINOR: Final = 6
HEADER: Final = struct.Struct("<IHBBI")
HANDSHAKE_MAX_PAYLOAD: Final = 4096

# Requests (§4).
HELLO: Final = 0x0001
REGISTER_REGION: Final = 0x0002
RELEASE_REGION: Final = 0x0003
ALLOCATE_BUFFER: Final = 0x0004
FREE_BUFFER: Final = 0x0005
LOAD_MODULE: Final = 0x0006
UNLOAD_MODULE: Final = 0x0007
GET_FUNCTION: Final = 0x0008
SUBMIT_STEP: Final = 0x0009
GET_STATUS: Final = 0x000A
REGISTER_MODEL: Final = 0x000B
UNREGISTER_MODEL: Final = 0x000C
GET_TENSOR: Final = 0x000D
ACQUIRE_LEASE: Final = 0x0011
RELEASE_LEASE: Final = 0x0012
GET_LEASE: Final = 0x0013
GET_TENANTS: Final = 0x0014

# Replies.
OK: Final = 0x8000
ERROR: Final = 0x80FF
MODEL_PROGRESS: Final = 0x8010
STEP_COMPLETED: Final = 0x8009

# Step ops (§4.4).
OP_COPY_IN: Final = 1
OP_LAUNCH: Final = 2
OP_COPY_OUT: Final = 3
OP_USE_MODEL: Final = 4
OP_SCHEDULE: Final = 5

# Launch argument kinds (§4.4).
ARG_BUFFER: Final = 1
ARG_I32: Final = 2
ARG_U32: Final = 3
ARG_I64: Final = 4
ARG_U64: Final = 5
ARG_F32: Final = 6
ARG_F64: Final = 7
ARG_TENSOR: Final = 8

SCALAR_FORMATS: Final = {ARG_I32: "<i", ARG_U32: "<I", ARG_I64: "<q", ARG_U64: "<Q", ARG_F32: "<f", ARG_F64: "<d"}


def header(payload_length: int, message_type: int, descriptors: int, request_id: int) -> bytes:
    return HEADER.pack(payload_length, message_type, descriptors, 0, request_id)


def string(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError(f"a string of {len(data)} bytes does not fit the wire's u16 length")
    return struct.pack("<H", len(data)) + data


class Reader:
    """Reads a payload's fields in order; a payload that ends early raises ``ValueError``."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytes | memoryview) -> None:
        self._data = memoryview(data)
        self._offset = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._offset

    def _unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if size > self.remaining:
            raise ValueError(f"the payload ends {size - self.remaining} bytes early")
        values = struct.unpack_from(fmt, self._data, self._offset)
        self._offset += size
        return values

    def u8(self) -> int:
        return self._unpack("<B")[0]

    def bool(self) -> bool:
        return self.u8() != 0

    def u16(self) -> int:
        return self._unpack("<H")[0]

    def u32(self) -> int:
        return self._unpack("<I")[0]

    def i32(self) -> int:
        return self._unpack("<i")[0]

    def u64(self) -> int:
        return self._unpack("<Q")[0]

    def i64(self) -> int:
        return self._unpack("<q")[0]

    def f64(self) -> float:
        return self._unpack("<d")[0]

    def string(self) -> str:
        length = self.u16()
        if length > self.remaining:
            raise ValueError(f"a string of {length} bytes runs past the payload")
        text = bytes(self._data[self._offset : self._offset + length]).decode("utf-8")
        self._offset += length
        return text
