"""``@gpumux.gpu(duration=60)``: a function that holds a lease while it runs, as ZeroGPU's ``@spaces.GPU`` does."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from .client import Client, connect

F = TypeVar("F", bound=Callable[..., Any])

_current: contextvars.ContextVar[Client | None] = contextvars.ContextVar("gpumux_current", default=None)
_shared: Client | None = None
_shared_lock = threading.Lock()
# One lease per session: calls take turns, threads behind a lock, coroutines behind one per event loop.
_lease_lock = threading.Lock()
_async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def current() -> Client:
    """The client of the ``@gpumux.gpu`` call running now."""
    client = _current.get()
    if client is None:
        raise RuntimeError("gpumux.current() is for code inside a @gpumux.gpu function")
    return client


def _shared_client() -> Client:
    global _shared
    with _shared_lock:
        if _shared is None or _shared._connection.closed is not None:
            _shared = connect()
        return _shared


def gpu(duration: float = 60, cls: str = "", *, client: Client | Callable[[], Client] | None = None) -> Callable[[F], F]:
    """Makes each call of the decorated function hold a lease of ``duration`` seconds in class
    ``cls`` (the daemon's default when empty), released when it returns. Inside, :func:`current`
    is the client. The lease is one per session, so calls on one client take turns (a call inside
    another's lease just runs in it). ``client`` is a client or a function that makes one; by
    default one shared client, connected on first use by :func:`gpumux.connect`. Works for ``async def`` too.
    """

    def resolve() -> Client:
        if client is None:
            return _shared_client()
        return client if isinstance(client, Client) else client()

    def decorate(function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                if _current.get() is not None:
                    return await function(*args, **kwargs)
                session = resolve()
                lock = _async_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
                async with lock:
                    with session.lease(seconds=duration, cls=cls):
                        token = _current.set(session)
                        try:
                            return await function(*args, **kwargs)
                        finally:
                            _current.reset(token)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            if _current.get() is not None:
                return function(*args, **kwargs)
            session = resolve()
            with _lease_lock, session.lease(seconds=duration, cls=cls):
                token = _current.set(session)
                try:
                    return function(*args, **kwargs)
                finally:
                    _current.reset(token)

        return run  # type: ignore[return-value]

    return decorate
