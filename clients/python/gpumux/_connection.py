"""One socket to gpumuxd: frames out under a lock, and a reader thread that hands each reply to the request of its id."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from . import _wire
from .errors import ConnectionLost, GpuMuxError, error_for


@dataclass(frozen=True, slots=True)
class Reply:
    type: int
    payload: bytes


@dataclass(slots=True)
class _Pending:
    future: Future[Reply]
    on_progress: Callable[[Reply], None] | None = field(default=None)


class Connection:
    """Frames to and from the daemon. Thread-safe; replies are matched to requests by ``request_id``."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._send_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._next_id = 0
        self._closed: GpuMuxError | None = None
        self._reader: threading.Thread | None = None

    def start_reader(self) -> None:
        self._reader = threading.Thread(target=self._read_loop, name="gpumux-reader", daemon=True)
        self._reader.start()

    def request(
        self,
        message_type: int,
        payload: bytes = b"",
        fds: Sequence[int] = (),
        on_progress: Callable[[Reply], None] | None = None,
    ) -> Future[Reply]:
        """Sends a request and returns the future of its final reply (``Error`` frames raise)."""
        future: Future[Reply] = Future()
        with self._pending_lock:
            if self._closed is not None:
                raise self._closed
            # Ids start at 1 and skip 0: the daemon answers framing verdicts with id 0 (§6).
            self._next_id = self._next_id % 0xFFFFFFFF + 1
            request_id = self._next_id
            self._pending[request_id] = _Pending(future, on_progress)
        try:
            self.send(message_type, payload, request_id, fds)
        except BaseException:
            with self._pending_lock:
                self._pending.pop(request_id, None)
            raise
        return future

    def send(self, message_type: int, payload: bytes, request_id: int, fds: Sequence[int] = ()) -> None:
        frame = _wire.header(len(payload), message_type, len(fds), request_id) + payload
        with self._send_lock:
            try:
                if fds:
                    # The descriptors travel with the frame's first bytes in one sendmsg (§2).
                    sent = socket.send_fds(self._socket, [frame], list(fds))
                    if sent < len(frame):
                        self._socket.sendall(frame[sent:])
                else:
                    self._socket.sendall(frame)
            except OSError as error:
                raise ConnectionLost(f"the connection to gpumuxd is lost: {error}") from error

    def receive_one(self) -> tuple[int, int, bytes]:
        """Reads one frame on the caller's thread (the handshake, before the reader starts)."""
        head = self._read_exactly(_wire.HEADER.size)
        length, message_type, _, _, request_id = _wire.HEADER.unpack(head)
        return message_type, request_id, self._read_exactly(length)

    def _read_exactly(self, count: int) -> bytes:
        data = bytearray(count)
        view = memoryview(data)
        received = 0
        while received < count:
            got = self._socket.recv_into(view[received:])
            if got == 0:
                raise ConnectionLost("gpumuxd closed the connection")
            received += got
        return bytes(data)

    def _read_loop(self) -> None:
        reason: GpuMuxError = ConnectionLost("gpumuxd closed the connection")
        try:
            while True:
                message_type, request_id, payload = self.receive_one()
                verdict = self._dispatch(message_type, request_id, payload)
                if verdict is not None:
                    reason = verdict
        except ConnectionLost:
            pass
        except OSError as error:
            reason = ConnectionLost(f"the connection to gpumuxd is lost: {error}")
        finally:
            self._fail_all(reason)

    def _dispatch(self, message_type: int, request_id: int, payload: bytes) -> GpuMuxError | None:
        reply = Reply(message_type, payload)
        if message_type == _wire.MODEL_PROGRESS:
            with self._pending_lock:
                pending = self._pending.get(request_id)
            if pending is not None and pending.on_progress is not None:
                pending.on_progress(reply)
            return None
        with self._pending_lock:
            pending = self._pending.pop(request_id, None)
        if message_type == _wire.ERROR:
            reader = _wire.Reader(payload)
            error = error_for(reader.u16(), reader.string())
            if pending is None or error.closes_connection:
                # A verdict on the stream (id 0) or one that closes: every request in flight fails with it.
                if pending is not None:
                    pending.future.set_exception(error)
                return error
            pending.future.set_exception(error)
        elif pending is not None:
            pending.future.set_result(reply)
        return None

    def _fail_all(self, reason: GpuMuxError) -> None:
        with self._pending_lock:
            if self._closed is None:
                self._closed = reason
            pending, self._pending = self._pending, {}
        for entry in pending.values():
            if not entry.future.done():
                entry.future.set_exception(type(reason)(reason.message, code=reason.code))

    def close(self) -> None:
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join()
        self._socket.close()
        self._fail_all(ConnectionLost("the client closed its connection to gpumuxd"))

    @property
    def closed(self) -> GpuMuxError | None:
        return self._closed


def connect_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as error:
        sock.close()
        raise ConnectionLost(f"no gpumuxd at {path}: {os.strerror(error.errno) if error.errno else error}") from error
    return sock
