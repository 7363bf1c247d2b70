"""Tablet authentication: pairing codes, device tokens (hashed at rest), PINs (argon2)
and a rate limiter for wrong PINs.

Pairing: the desktop issues a short code (shown with a QR code) that expires after 5
minutes; a tablet that knows it may list the salespeople and pair with a salesperson's
PIN. A code pairs one tablet (it is used up then); wrong codes are rate-limited
(`app.sync.lan.guard`). Pairing gives the device a random token; only its SHA-256 is stored (a 256-bit
random token needs no slow hash), so a copy of the database cannot be used to act as a
tablet. Revoking a device deletes nothing: it stamps `revoked_at`, and the token stops
working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)

PAIRING_TTL_S = 300.0
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6
PIN_MIN, PIN_MAX = 4, 8

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

Clock = Callable[[], float]


class PinError(ValueError):
    """A PIN that is not acceptable; the message says why."""


def validate_pin(pin: str) -> str:
    pin = pin.strip()
    if not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX or not pin.isascii():
        raise PinError(f"a PIN is {PIN_MIN} to {PIN_MAX} digits")
    return pin


def hash_pin(pin: str) -> str:
    """An argon2id hash of a validated PIN."""
    return _hasher.hash(validate_pin(pin))


def verify_pin(pin_hash: str, pin: str) -> bool:
    try:
        return bool(_hasher.verify(pin_hash, pin))
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class PairingCode:
    code: str
    expires_at: float  # epoch seconds

    def remaining(self, now: float | None = None) -> float:
        return max(0.0, self.expires_at - (time.time() if now is None else now))


class PairingCodes:
    """Short-lived pairing codes, kept in memory only (a restart invalidates them)."""

    def __init__(self, ttl_s: float = PAIRING_TTL_S, clock: Clock = time.time) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, float] = {}

    def issue(self) -> PairingCode:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        expires = self._clock() + self.ttl_s
        with self._lock:
            self._purge()
            self._codes[code] = expires
        log.info("pairing code issued, valid %.0f s", self.ttl_s)
        return PairingCode(code, expires)

    def is_valid(self, code: str) -> bool:
        wanted = normalize_code(code)
        now = self._clock()
        with self._lock:
            found = False
            for c, expires in self._codes.items():  # constant-time compare with each
                if hmac.compare_digest(c.encode(), wanted.encode()) and expires > now:
                    found = True
            return found

    def take(self, code: str) -> bool:
        """Use up a valid code (a code pairs one tablet); False if it was not valid."""
        wanted = normalize_code(code)
        with self._lock:
            expires = self._codes.get(wanted)
            if expires is None or expires <= self._clock():
                return False
            del self._codes[wanted]
            return True

    def revoke(self, code: str) -> None:
        with self._lock:
            self._codes.pop(normalize_code(code), None)

    def _purge(self) -> None:
        now = self._clock()
        for c in [c for c, e in self._codes.items() if e <= now]:
            del self._codes[c]


@dataclass
class _Bucket:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class RateLimiter:
    """After `max_failures` failures within `window_s` a key is locked for `lockout_s`."""

    def __init__(
        self,
        max_failures: int = 5,
        window_s: float = 300.0,
        lockout_s: float = 300.0,
        clock: Clock = time.time,
        what: str = "PINs",
    ) -> None:
        self.what = what
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, *keys: str) -> float:
        """Seconds until these keys may try again (0: allowed now)."""
        now = self._clock()
        with self._lock:
            waits = [self._buckets[k].locked_until - now for k in keys if k in self._buckets]
        return max([0.0, *waits])

    def failure(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._buckets) > 10000:  # bound memory against a flood of keys
                self._buckets = {
                    k: b for k, b in self._buckets.items() if b.locked_until > now or b.failures
                }
            for k in keys:
                b = self._buckets.setdefault(k, _Bucket())
                b.failures = [t for t in b.failures if t > now - self.window_s] + [now]
                if len(b.failures) >= self.max_failures:
                    b.locked_until = now + self.lockout_s
                    b.failures.clear()
                    log.warning(
                        "too many wrong %s for %s: locked %.0f s", self.what, k, self.lockout_s
                    )

    def success(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._buckets.pop(k, None)
