"""The only module that reads time: a monotonic nanosecond clock and deadlines."""

from __future__ import annotations

import time
from dataclasses import dataclass

from httpsaudit.errors import Phase, PhaseTimeout


def now_ns() -> int:
    """Monotonic nanoseconds; never wall-clock, so NTP steps cannot bend a measurement."""
    return time.perf_counter_ns()


def wall_time() -> float:
    """Seconds since the epoch, only for timestamps in reports (never for durations)."""
    return time.time()


def ns_to_ms(duration_ns: int) -> float:
    """Milliseconds rounded to the microsecond: finer digits are noise on any network."""
    return round(duration_ns / 1_000_000, 3)


@dataclass(frozen=True, slots=True)
class Deadline:
    """An absolute monotonic expiry; children never outlive their parent."""

    expires_ns: int

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(now_ns() + int(seconds * 1_000_000_000))

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, (self.expires_ns - now_ns()) / 1_000_000_000)

    @property
    def expired(self) -> bool:
        return now_ns() >= self.expires_ns

    def check(self, phase: Phase, what: str) -> None:
        if self.expired:
            raise PhaseTimeout(f"timed out: {what}", phase=phase)

    def child(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, capped by this one."""
        return Deadline(min(self.expires_ns, now_ns() + int(seconds * 1_000_000_000)))
