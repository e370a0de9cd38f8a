"""Shared memory: a sealed memfd that the client and the daemon both map (docs/protocol.md §4.1, §5)."""

from __future__ import annotations

import mmap
import os
from typing import TYPE_CHECKING, Any

from . import _interop

if TYPE_CHECKING:
    from .client import Client


class Region:
    """Host memory shared with gpumuxd: steps copy between it and device buffers.

    Write inputs into it before a step and read outputs after; ``region[a:b]`` names a part of it
    for a copy. Its bytes are reachable without copies through :meth:`view`, :meth:`numpy` and
    :meth:`torch`.
    """

    def __init__(self, client: Client, handle: int, nbytes: int, mapping: mmap.mmap) -> None:
        self._client = client
        self.handle = handle
        self.nbytes = nbytes
        self._map: mmap.mmap | None = mapping

    def __repr__(self) -> str:
        return f"Region(handle={self.handle}, nbytes={self.nbytes})"

    def __len__(self) -> int:
        return self.nbytes

    def __getitem__(self, key: slice) -> RegionSlice:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a region is sliced with [start:stop]")
        start, stop, _ = key.indices(self.nbytes)
        return RegionSlice(self, start, max(0, stop - start))

    @property
    def mapping(self) -> mmap.mmap:
        if self._map is None:
            raise ValueError(f"region {self.handle} is released")
        return self._map

    def view(self, offset: int = 0, nbytes: int | None = None, format: str = "B") -> memoryview:
        """A memoryview of the shared bytes (no copy), cast to ``format`` (a ``struct`` code such as ``"f"``)."""
        return self[offset : self.nbytes if nbytes is None else offset + nbytes].view(format)

    def write(self, offset: int, data: Any) -> RegionSlice:
        """Copies ``data`` (bytes, bytearray, array.array, a NumPy array: anything with the buffer
        protocol, C-contiguous) into the region at ``offset``; returns the part it filled."""
        source = _interop.as_bytes_view(data)
        part = self[offset : offset + len(source)]
        if part.nbytes != len(source):
            raise ValueError(f"{len(source)} bytes at offset {offset} run past the region's {self.nbytes}")
        self.mapping[offset : offset + len(source)] = source
        return part

    def read(self, offset: int = 0, nbytes: int | None = None) -> bytes:
        """A copy of the region's bytes."""
        return self.view(offset, nbytes).tobytes()

    def numpy(self, dtype: Any = "uint8", shape: Any = None, offset: int = 0) -> Any:
        """A NumPy array over the region's bytes, without a copy (needs NumPy)."""
        return _interop.numpy_view(self.mapping, dtype, shape, offset)

    def torch(self, dtype: Any, shape: Any = None, offset: int = 0) -> Any:
        """A CPU PyTorch tensor over the region's bytes, without a copy (needs PyTorch)."""
        return _interop.torch_view(self.mapping, dtype, shape, offset)

    def release(self) -> None:
        """Gives the region back to the daemon and unmaps it here; steps in flight finish first (§4.1)."""
        if self._map is None:
            return
        mapping, self._map = self._map, None
        self._client._release_region(self.handle)
        try:
            mapping.close()
        except BufferError:
            # Views of it are still alive (NumPy arrays, memoryviews): the mapping goes with the last of them.
            pass

    def __enter__(self) -> Region:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class RegionSlice:
    """``nbytes`` bytes of a region from ``offset``: the host side of a copy."""

    __slots__ = ("region", "offset", "nbytes")

    def __init__(self, region: Region, offset: int, nbytes: int) -> None:
        self.region = region
        self.offset = offset
        self.nbytes = nbytes

    def __repr__(self) -> str:
        return f"RegionSlice(region={self.region.handle}, offset={self.offset}, nbytes={self.nbytes})"

    def __len__(self) -> int:
        return self.nbytes

    def view(self, format: str = "B") -> memoryview:
        """A memoryview of these bytes (no copy), cast to ``format``."""
        return memoryview(self.region.mapping)[self.offset : self.offset + self.nbytes].cast(format)

    def write(self, data: Any) -> RegionSlice:
        """Copies ``data`` into the start of this part; see :meth:`Region.write`."""
        if len(_interop.as_bytes_view(data)) > self.nbytes:
            raise ValueError(f"{len(_interop.as_bytes_view(data))} bytes do not fit this part's {self.nbytes}")
        return self.region.write(self.offset, data)

    def read_into(self, target: Any) -> None:
        """Copies these bytes into ``target`` (a writable buffer: bytearray, array.array, NumPy array)."""
        destination = _interop.as_bytes_view(target, writable=True)
        if len(destination) != self.nbytes:
            raise ValueError(f"a target of {len(destination)} bytes for {self.nbytes}")
        destination[:] = self.view()

    def tobytes(self) -> bytes:
        return self.view().tobytes()

    def numpy(self, dtype: Any = "uint8", shape: Any = None) -> Any:
        """A NumPy array over these bytes, without a copy (needs NumPy)."""
        return _interop.numpy_view(self.region.mapping, dtype, shape, self.offset, self.nbytes)

    def torch(self, dtype: Any, shape: Any = None) -> Any:
        """A CPU PyTorch tensor over these bytes, without a copy (needs PyTorch)."""
        return _interop.torch_view(self.region.mapping, dtype, shape, self.offset, self.nbytes)


def create_memfd(name: str, nbytes: int) -> int:
    """A memfd the daemon can seal (§4.1: ``os.memfd_create``'s default flags leave sealing out)."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise
    return fd
