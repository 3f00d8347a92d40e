"""Per-user rate limiting of the model endpoints: a token bucket per user, in memory.

A bucket holds ``burst`` requests and refills at ``per_minute`` per minute. In-memory is enough for one
app process; several app servers behind a load balancer would each enforce their own share.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, per_minute: int, burst: int) -> None:
        self.per_second = per_minute / 60.0
        self.capacity = float(max(burst, 1))
        self.enabled = per_minute > 0
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait_time(self, key: int) -> float:
        """Seconds until one request would be allowed (0.0 = now), without using it up."""
        if not self.enabled:
            return 0.0
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, time.monotonic()))
            tokens = min(self.capacity, tokens + (time.monotonic() - last) * self.per_second)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_second

    def try_acquire(self, key: int) -> float:
        """0.0 when the request may go ahead, else the seconds to wait before the next one is allowed."""
        if not self.enabled:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second
