"""Leases and quotas (docs/protocol.md §4.7, §4.8)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _wire

if TYPE_CHECKING:
    from .client import Client


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """A lease as the daemon reports it. Times are Unix milliseconds; 0 budgets mean none."""

    id: int
    cls: str
    gpu_ns_used: int
    max_gpu_ns: int
    acquired_at_unix_ms: int
    expires_at_unix_ms: int
    device_bytes: int
    max_device_bytes: int
    expired: bool

    @property
    def gpu_seconds_left(self) -> float | None:
        """Device time left under the lease; None when it has no GPU-time budget."""
        return None if self.max_gpu_ns == 0 else max(0, self.max_gpu_ns - self.gpu_ns_used) / 1e9

    @property
    def seconds_left(self) -> float | None:
        """Wall time left; None when the lease has no end."""
        return None if self.expires_at_unix_ms == 0 else max(0.0, self.expires_at_unix_ms / 1000 - time.time())


def read_lease(reader: _wire.Reader) -> LeaseInfo:
    return LeaseInfo(
        reader.u32(), reader.string(), reader.u64(), reader.u64(), reader.i64(), reader.i64(), reader.u64(), reader.u64(), reader.bool()
    )


class Lease:
    """A lease held by the session; released by :meth:`release` or on leaving a ``with`` block."""

    def __init__(self, client: Client, granted: LeaseInfo) -> None:
        self._client = client
        self.granted = granted
        self._released = False

    def __repr__(self) -> str:
        return f"Lease(id={self.granted.id}, cls={self.granted.cls!r})"

    def info(self) -> LeaseInfo | None:
        """The lease now (``GetLease``): its time used, whether it expired."""
        return self._client.get_lease()

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._client._release_lease()

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """One uid's entry in ``TenantReport``. ``device_bytes`` counts whole 2 MiB pages, in bytes; limits of 0 mean none."""

    uid: int
    weight: float
    sessions: int
    device_bytes: int
    max_device_bytes: int
    leases: int
    max_leases: int
    gpu_seconds_today: float
    gpu_seconds_per_day: float
    resets_at_unix_ms: int
    highest_class: str
    gpu_seconds: float
    steps: int
    swaps: int
    bytes_moved: int
    queue_p50_ms: float
    queue_p99_ms: float


def read_tenants(reader: _wire.Reader) -> list[TenantInfo]:
    reader.u32()
    return [
        TenantInfo(
            reader.u32(), reader.f64(), reader.u32(), reader.u64(), reader.u64(), reader.u32(), reader.u32(), reader.f64(),
            reader.f64(), reader.i64(), reader.string(), reader.f64(), reader.u64(), reader.u64(), reader.u64(), reader.f64(),
            reader.f64(),
        )
        for _ in range(reader.u16())
    ]


@dataclass(frozen=True, slots=True)
class Quota:
    """What the user has left: its tenant's limits and use, and the session's lease (None if none)."""

    tenant: TenantInfo
    lease: LeaseInfo | None

    @property
    def gpu_seconds_left_today(self) -> float | None:
        """Device time left in the 24-hour window; None when the tenant has no daily limit."""
        per_day = self.tenant.gpu_seconds_per_day
        return None if per_day == 0 else max(0.0, per_day - self.tenant.gpu_seconds_today)

    @property
    def device_bytes_left(self) -> int | None:
        """Device memory the tenant's buffers may still take; None when unlimited."""
        limit = self.tenant.max_device_bytes
        return None if limit == 0 else max(0, limit - self.tenant.device_bytes)

    @property
    def leases_left(self) -> int | None:
        limit = self.tenant.max_leases
        return None if limit == 0 else max(0, limit - self.tenant.leases)

    def __str__(self) -> str:
        def left(value: float | None, unit: str) -> str:
            return "unlimited" if value is None else f"{value:g} {unit}"

        lines = [
            f"uid {self.tenant.uid}: GPU time today {self.tenant.gpu_seconds_today:.3f} s, left {left(self.gpu_seconds_left_today, 's')}",
            f"device memory {self.tenant.device_bytes} bytes, left {left(self.device_bytes_left, 'bytes')}",
            f"leases {self.tenant.leases}, left {left(self.leases_left, '')}".rstrip(),
            f"highest class {self.tenant.highest_class or 'any'}",
        ]
        if self.tenant.resets_at_unix_ms:
            lines.append(f"oldest use leaves the window at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.tenant.resets_at_unix_ms / 1000))}")
        if self.lease is not None:
            lease = self.lease
            lines.append(
                f"lease {lease.id} ({lease.cls}): {left(lease.seconds_left, 's')} of wall time, "
                f"{left(lease.gpu_seconds_left, 's')} of GPU time{', expired' if lease.expired else ''}"
            )
        return "\n".join(lines)
