"""A small in-memory, per-key sliding-window rate limiter.

    limiter = RateLimiter.parse("10/minute")
    limiter.hit("203.0.113.7")   # raises RateLimited(retry_after_s=...) on the 11th in a minute

Rates are ``"<count>/<unit>"`` or ``"<count>/<n><unit>"``: ``"5/second"``, ``"30/minute"``,
``"100/hour"``, ``"1000/day"``, ``"10/5m"``. One process only: behind several workers
each counts for itself.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable

from service.errors import RateLimited

_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*([a-z]+?)s?\s*$", re.IGNORECASE)


def parse_rate(text: str) -> tuple[int, float]:
    """``"10/minute"`` -> ``(10, 60.0)``; raises ``ValueError`` for anything else."""
    match = _RATE.match(text)
    if match is None or match.group(3).lower() not in _UNITS:
        raise ValueError(f"not a rate like '10/minute': {text!r}")
    count = int(match.group(1))
    period = int(match.group(2) or 1) * _UNITS[match.group(3).lower()]
    if count < 1:
        raise ValueError(f"a rate must allow at least one request: {text!r}")
    return count, period


class RateLimiter:
    """At most ``limit`` hits per key in any ``period_s`` window; thread-safe."""

    def __init__(
        self,
        limit: int,
        period_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit, self.period_s = limit, period_s
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def parse(
        cls, rate: str, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> RateLimiter:
        """A limiter from a rate string such as ``"10/minute"``."""
        limit, period_s = parse_rate(rate)
        return cls(limit, period_s, clock=clock, max_keys=max_keys)

    def hit(self, key: str) -> None:
        """Count one request for ``key``; raises ``RateLimited`` when over the limit."""
        now = self._clock()
        with self._lock:
            window = self._hits.get(key)
            if window is None:
                if len(self._hits) >= self._max_keys:
                    self._prune(now)
                window = self._hits[key] = deque()
            while window and window[0] <= now - self.period_s:
                window.popleft()
            if len(window) >= self.limit:
                retry_after = max(1, math.ceil(window[0] + self.period_s - now))
                raise RateLimited(
                    f"too many requests; try again in {retry_after} s", retry_after_s=retry_after
                )
            window.append(now)

    def _prune(self, now: float) -> None:
        """Forget keys with no hit inside the window (called when the table is full)."""
        stale = [k for k, w in self._hits.items() if not w or w[-1] <= now - self.period_s]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:  # still full: drop the oldest-touched keys
            for key in sorted(self._hits, key=lambda k: self._hits[k][-1])[: self._max_keys // 10]:
                del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
