"""Rate limits, kept in the database so that every server process (``assistant serve --workers N``) counts
the same requests: the model endpoints' token bucket per user (:class:`RateLimiter`) and the failed-login
back-off (:class:`LoginGuard`).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from assistant.web.db import LoginThrottle, RateBucket, utcnow


class RateLimiter:
    """A token bucket per user: ``burst`` requests at once, refilled at ``per_minute`` per minute.

    The bucket is a row; taking a token is one conditional UPDATE in the caller's transaction, so two
    processes never both spend the last token."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.per_second = per_minute / 60.0
        self.capacity = float(max(burst, 1))
        self.enabled = per_minute > 0
        self.clock = utcnow

    def try_acquire(self, db: Any, key: int) -> float:
        """0.0 when the request may go ahead (a token is taken), else the seconds until one is allowed."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        _insert_missing(db, RateBucket, {"key": str(key), "tokens": self.capacity, "updated_at": now})
        # the UPDATE takes the row (and, on SQLite, the database) for this transaction before it is read
        db.execute(update(RateBucket).where(RateBucket.key == str(key)).values(tokens=RateBucket.tokens))
        tokens, last = db.execute(select(RateBucket.tokens, RateBucket.updated_at)
                                  .where(RateBucket.key == str(key))).one()
        tokens = min(self.capacity, tokens + max(0.0, (now - last).total_seconds()) * self.per_second)
        if tokens >= 1.0:
            db.execute(update(RateBucket).where(RateBucket.key == str(key)).values(tokens=tokens - 1.0, updated_at=now))
            return 0.0
        db.execute(update(RateBucket).where(RateBucket.key == str(key)).values(tokens=tokens, updated_at=now))
        return (1.0 - tokens) / self.per_second


class LoginGuard:
    """Back-off after failed logins, kept in the database so every server process sees the same counts.

    Two counters, both keyed by an HMAC (neither typed names nor client addresses are stored):

    - per (account, client address): after ``free`` failures each further attempt from that address waits
      1, 2, 4 … seconds (at most ``max_delay_s``). Someone guessing a colleague's password from their own
      PC therefore does not lock the colleague out: the colleague's correct password from another address
      is checked as usual. A success clears the counter.
    - per client address across accounts (password spraying): the same back-off after ``address_free``
      failures. Offices often share one NAT address, so this threshold is high (a setting).

    Counters are forgotten ``forget_after`` after the last failure. An administrator can clear an account's
    counters (``assistant user unlock``, or a password reset in the admin page) — the remedy when someone
    keeps failing from the user's own address.
    """

    def __init__(self, secret: bytes, *, free: int = 3, address_free: int = 30, max_delay_s: float = 900.0,
                 forget_after_s: float = 3600.0) -> None:
        self._key = hmac.new(secret, b"assistant login throttle v1", hashlib.sha256).digest()
        self.free, self.address_free = free, address_free
        self.max_delay_s, self.forget_after_s = max_delay_s, forget_after_s
        self.clock = utcnow  # the tests step a clock of their own instead of sleeping

    def _h(self, kind: str, value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip().lower()
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return "a" + self._h("account", username)[:31] + self._h("address", address)[:32], \
            "i" + self._h("address", address)[:63]

    def wait_seconds(self, db: Any, username: str, address: str) -> float:
        """Seconds before a login attempt for this account from this address is considered (0 = now)."""
        now = self.clock()
        waits = [0.0]
        for key in self._keys(username, address):
            row = db.get(LoginThrottle, key)
            if row is not None and row.blocked_until is not None and row.blocked_until > now:
                waits.append((row.blocked_until - now).total_seconds())
        return max(waits)

    def failed(self, db: Any, username: str, address: str) -> None:
        now = self.clock()
        for key, free in zip(self._keys(username, address), (self.free, self.address_free), strict=True):
            # two processes failing at once both find the row
            _insert_missing(db, LoginThrottle, {"key": key, "failures": 0, "last_failure": now})
            row = db.get(LoginThrottle, key, populate_existing=True, with_for_update=True)
            if (now - row.last_failure).total_seconds() > self.forget_after_s:
                row.failures = 0
            row.failures += 1
            row.last_failure = now
            over = row.failures - free + 1  # the free-th failure already makes the next attempt wait
            row.blocked_until = now + timedelta(seconds=min(2.0 ** (over - 1), self.max_delay_s)) if over > 0 else None

    def succeeded(self, db: Any, username: str, address: str) -> None:
        row = db.get(LoginThrottle, self._keys(username, address)[0])
        if row is not None:
            db.delete(row)

    def clear_account(self, db: Any, username: str) -> int:
        """Forget the account's failures from every address (an administrator's unlock)."""
        prefix = "a" + self._h("account", username)[:31]
        return db.execute(delete(LoginThrottle).where(LoginThrottle.key.startswith(prefix))).rowcount or 0


def _insert_missing(db: Any, model: Any, values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert: Any = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(insert(model).values(**values).on_conflict_do_nothing())
