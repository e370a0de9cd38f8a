"""The session with gpumuxd: :func:`connect` and :class:`Client`."""

from __future__ import annotations

import mmap
import os
import stat
import struct
import sys
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from . import _wire
from ._connection import Connection, Reply, connect_unix
from .errors import ConnectionLost, GpuMuxError, error_for
from .lease import Lease, LeaseInfo, Quota, read_lease, read_tenants
from .region import Region, create_memfd
from .resources import BUILTIN_SIGNATURES, Buffer, Function, Model, Module, Tensor, signature_from_source
from .step import Step

SYSTEM_SOCKET = "/run/gpumuxd/gpumuxd.sock"
HOST_VARIABLE = "GPUMUX_HOST"
_FORMATS = {"cuda": 1, "ptx": 2, "cubin": 3}


@dataclass(frozen=True, slots=True)
class Device:
    """The GPU the daemon serves, as ``Welcome`` describes it."""

    ordinal: int
    name: str
    total_memory_bytes: int
    compute_capability: tuple[int, int]
    multiprocessors: int
    pci_bus_id: str


def resolve_socket(path: str | None = None) -> str:
    """The daemon's socket (docs/protocol.md §1): ``path`` if given, else ``$GPUMUX_HOST``
    (``unix:/path`` or a path), else this user's own daemon's socket if it exists, else the system's."""
    host = path if path is not None else os.environ.get(HOST_VARIABLE, "")
    if host.strip():
        socket_path = host.removeprefix("unix:")
        if not socket_path or "://" in socket_path:
            raise ValueError(f"{host!r} is not a Unix socket address; expected unix:/path/to/gpumuxd.sock")
        return socket_path
    own = _own_socket()
    return SYSTEM_SOCKET if not os.path.exists(own) and os.path.exists(SYSTEM_SOCKET) else own


def _own_socket() -> str:
    uid = os.geteuid()
    if uid == 0:
        return SYSTEM_SOCKET
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "gpumuxd.sock")
    return os.path.join(f"/tmp/gpumuxd-{uid}", "gpumuxd.sock")


def _check_fallback_directory(socket_path: str) -> None:
    # Under /tmp anyone could have made the directory first and put their own socket in it.
    uid = os.geteuid()
    directory = f"/tmp/gpumuxd-{uid}"
    if os.path.dirname(os.path.abspath(socket_path)) != directory:
        return
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o022:
        raise ConnectionLost(f"{directory} is not this user's alone (a directory of mode 0700 owned by uid {uid}); it is not used")


def connect(path: str | None = None, *, name: str | None = None, inspect: bool = False) -> Client:
    """Connects to gpumuxd and says Hello.

    ``path``: the socket (a path or ``unix:/path``); by default ``$GPUMUX_HOST``, then the default
    paths (:func:`resolve_socket`). ``name`` is how ``gpumuxctl status`` shows the client.
    ``inspect`` asks for a session that only reads reports (status, models, tenants).

    Raises :class:`~gpumux.errors.ConnectionLost` when no daemon answers, or the daemon's refusal
    (:class:`~gpumux.errors.TooManySessions`, ...).
    """
    socket_path = resolve_socket(path)
    _check_fallback_directory(socket_path)
    connection = Connection(connect_unix(socket_path))
    try:
        client_name = name if name is not None else Path(sys.argv[0]).name or "python"
        hello = struct.pack("<IHHQ", _wire.MAGIC, _wire.MAJOR, _wire.MINOR, 1 if inspect else 0) + _wire.string(client_name[:64])
        connection.send(_wire.HELLO, hello, 0)
        message_type, _, payload = connection.receive_one()
        if message_type == _wire.ERROR:
            reader = _wire.Reader(payload)
            raise error_for(reader.u16(), reader.string())
        client = Client(connection, socket_path, _wire.Reader(payload))
    except BaseException:
        connection.close()
        raise
    connection.start_reader()
    return client


class Client:
    """One session with gpumuxd. Thread-safe, and usable from asyncio (:meth:`Step.run_async`):
    requests and steps from any thread share one connection, their replies matched by request id.
    Everything the session creates is released when it closes (:meth:`close`, or ``with``)."""

    def __init__(self, connection: Connection, socket_path: str, welcome: _wire.Reader) -> None:
        self._connection = connection
        self.socket_path = socket_path
        if welcome.u32() != _wire.MAGIC:
            raise GpuMuxError("the daemon's Welcome carries the wrong magic")
        welcome.u16()
        self.minor: int = welcome.u16()
        self.inspect_only: bool = bool(welcome.u64() & 1)
        self.max_payload_bytes: int = welcome.u32()
        self.session_id: int = welcome.u64()
        self.backend: str = {1: "cuda", 2: "sim"}.get(welcome.u8(), "unknown")
        self.backend_description: str = welcome.string()
        self.devices: list[Device] = [
            Device(welcome.u16(), welcome.string(), welcome.u64(), (welcome.u8(), welcome.u8()), welcome.u16(), welcome.string())
            for _ in range(welcome.u16())
        ]
        self._functions: dict[tuple[int, str], Function] = {}
        self._modules: dict[str, Module] = {}

    def __repr__(self) -> str:
        return f"Client(session={self.session_id}, backend={self.backend}, socket={self.socket_path!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Ends the session: the daemon releases all it holds; requests in flight fail with ConnectionLost."""
        self._connection.close()

    # Memory.

    def region(self, nbytes: int) -> Region:
        """Shared memory of ``nbytes`` (a sealable memfd, mapped here and by the daemon)."""
        fd = create_memfd("gpumux", nbytes)
        try:
            mapping = mmap.mmap(fd, nbytes)
            try:
                reply = self._call(_wire.REGISTER_REGION, struct.pack("<Q", nbytes), (fd,))
            except BaseException:
                mapping.close()
                raise
        finally:
            os.close(fd)
        return Region(self, _wire.Reader(reply.payload).u32(), nbytes, mapping)

    def buffer(self, nbytes: int, spillable: bool = False) -> Buffer:
        """Device memory of ``nbytes``, zeroed. A ``spillable`` one (a request's KV cache, say) may
        be moved to the daemon's host memory while no step names it, and back before one does
        (protocol 1.6)."""
        if not spillable:
            payload = struct.pack("<Q", nbytes)
        elif self.minor < 6:
            raise NotImplementedError(f"gpumuxd speaks protocol 1.{self.minor}; spillable buffers need 1.6")
        else:
            payload = struct.pack("<QI", nbytes, 1)
        reply = self._call(_wire.ALLOCATE_BUFFER, payload)
        return Buffer(self, _wire.Reader(reply.payload).u32(), nbytes)

    # Kernels.

    def builtin(self, name: str) -> Function:
        """A built-in kernel of module 0: ``fill_f32``, ``axpy_f32``, ``gemv_f32``, ``gemv_f16``, ``gemv_bf16``, ``spin``, ``checksum``."""
        return self.function(0, name, BUILTIN_SIGNATURES.get(name))

    def function(self, module: Module | int, name: str, params: tuple[int, ...] | None = None) -> Function:
        """The kernel ``name`` of ``module`` (``GetFunction``); :class:`~gpumux.errors.UnknownFunction` if none."""
        handle = module if isinstance(module, int) else module.handle
        key = (handle, name)
        if key not in self._functions:
            reply = self._call(_wire.GET_FUNCTION, struct.pack("<I", handle) + _wire.string(name))
            self._functions[key] = Function(_wire.Reader(reply.payload).u32(), name, handle, params)
        return self._functions[key]

    def kernel(self, source: str, name: str) -> Function:
        """Kernel ``name`` compiled from CUDA C ``source`` by the daemon, as ``cupy.RawKernel`` takes
        it (the kernel ``extern "C"``). The module is loaded once per source; the argument kinds are
        read from the kernel's declaration where it is plain."""
        module = self._modules.get(source)
        if module is None:
            module = self.load_module(source.encode("utf-8"), "cuda", name)
            self._modules[source] = module
        return self.function(module, name, signature_from_source(source, name))

    def load_module(self, image: bytes, format: str = "cuda", name: str = "module") -> Module:
        """Loads a module: ``format`` is ``"cuda"`` (C source), ``"ptx"`` or ``"cubin"``.
        Needs the tenant's right to load modules (:class:`~gpumux.errors.PermissionDenied`)."""
        fd = create_memfd(name, len(image))
        try:
            os.pwrite(fd, image, 0)
            payload = struct.pack("<BQ", _FORMATS[format], len(image)) + _wire.string(name)
            reply = self._call(_wire.LOAD_MODULE, payload, (fd,))
        finally:
            os.close(fd)
        reader = _wire.Reader(reply.payload)
        return Module(reader.u32(), reader.bool(), reader.string())

    def unload_module(self, module: Module) -> None:
        self._call(_wire.UNLOAD_MODULE, struct.pack("<I", module.handle))
        self._modules = {source: loaded for source, loaded in self._modules.items() if loaded.handle != module.handle}
        self._functions = {key: function for key, function in self._functions.items() if key[0] != module.handle}

    # Steps.

    def step(self) -> Step:
        """A new, empty step: chain ``copy_in``, ``launch``, ``copy_out``, then ``run()`` or ``await run_async()``."""
        return Step(self)

    # Models.

    def register_model(
        self,
        path: str | os.PathLike[str] | int,
        name: str | None = None,
        groups: list[int] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Model:
        """Registers the safetensors file at ``path`` as a model: the daemon stages its weights and
        makes them resident for the steps that use it. ``path`` may be an open descriptor instead
        (a regular file or a memfd; it stays the caller's). ``name`` (unique in the session)
        defaults to the file's stem; ``groups`` gives the tensors per layer group;
        ``on_progress(staged, total)`` is called, on the client's reader thread, as the daemon copies."""
        if isinstance(path, int) and name is None:
            raise ValueError("a model registered from a descriptor needs a name")
        model_name = name if name is not None else Path(path).stem  # type: ignore[arg-type]
        payload = _wire.string(model_name) + struct.pack(f"<I{len(groups or [])}I", len(groups or []), *(groups or []))

        def progress(reply: Reply) -> None:
            if on_progress is not None:
                reader = _wire.Reader(reply.payload)
                on_progress(reader.u64(), reader.u64())

        opened = not isinstance(path, int)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC) if opened else path
        try:
            reply = self._wait(self._connection.request(_wire.REGISTER_MODEL, payload, (fd,), progress))
        finally:
            if opened:
                os.close(fd)
        reader = _wire.Reader(reply.payload)
        return Model(self, reader.u32(), model_name, reader.u32(), reader.u64(), reader.u8(), reader.u32())

    # Leases and quota.

    def lease(self, seconds: float | None = None, cls: str = "", *, gpu_seconds: float | None = None, max_device_bytes: int = 0) -> Lease:
        """Acquires a lease (§4.7): the session's steps run in class ``cls`` (the daemon's default
        when empty) for ``seconds`` of wall time and ``gpu_seconds`` of device time (None: no end).
        Use it as ``with client.lease(seconds=60, cls="interactive"):`` to release it on leaving."""
        payload = _wire.string(cls) + struct.pack(
            "<QQQ", _milliseconds(gpu_seconds), _milliseconds(seconds), max_device_bytes
        )
        reply = self._call(_wire.ACQUIRE_LEASE, payload)
        return Lease(self, read_lease(_wire.Reader(reply.payload)))

    def get_lease(self) -> LeaseInfo | None:
        """The session's lease as the daemon reports it now, or None."""
        reader = _wire.Reader(self._call(_wire.GET_LEASE).payload)
        held = reader.bool()
        lease = read_lease(reader)
        return lease if held else None

    def quota(self) -> Quota:
        """What this user (uid) has left today: its tenant entry in ``GetTenants`` and the session's lease."""
        tenants = read_tenants(_wire.Reader(self._call(_wire.GET_TENANTS).payload))
        uid = os.geteuid()
        own = next((tenant for tenant in tenants if tenant.uid == uid), None)
        if own is None:
            raise GpuMuxError(f"the daemon's tenant report has no entry for uid {uid}")
        return Quota(own, self.get_lease())

    # Plumbing for the handles' methods.

    def _release_lease(self) -> None:
        self._call(_wire.RELEASE_LEASE)

    def _release_region(self, handle: int) -> None:
        self._call(_wire.RELEASE_REGION, struct.pack("<I", handle))

    def _free_buffer(self, handle: int) -> None:
        self._call(_wire.FREE_BUFFER, struct.pack("<I", handle))

    def _get_tensor(self, model: Model, name: str) -> Tensor:
        reader = _wire.Reader(self._call(_wire.GET_TENSOR, struct.pack("<I", model.handle) + _wire.string(name)).payload)
        return Tensor(model, reader.u32(), name, reader.u64(), reader.u32())

    def _unregister_model(self, handle: int) -> None:
        self._call(_wire.UNREGISTER_MODEL, struct.pack("<I", handle))

    def _submit(self, payload: bytes) -> Future[Reply]:
        if len(payload) > self.max_payload_bytes:
            raise ValueError(f"a step of {len(payload)} bytes is over the daemon's {self.max_payload_bytes}: split it")
        return self._connection.request(_wire.SUBMIT_STEP, payload)

    def _call(self, message_type: int, payload: bytes = b"", fds: tuple[int, ...] = ()) -> Reply:
        return self._wait(self._connection.request(message_type, payload, fds))

    @staticmethod
    def _wait(future: Future[Reply]) -> Reply:
        try:
            return future.result()
        except GpuMuxError as error:
            # Raised afresh so the traceback shows the caller, not the reader thread.
            raise error.with_traceback(None) from None


def _milliseconds(seconds: float | None) -> int:
    if seconds is None:
        return 0
    if seconds <= 0:
        raise ValueError("a lease's time is positive, or None for no end")
    return max(1, round(seconds * 1000))
