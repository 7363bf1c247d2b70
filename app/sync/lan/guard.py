"""What keeps the LAN server's network face small: pairing-code guessing limits, a cap on
request bodies (checked before anything reads them), `Allow` headers that list every
method of a path, and rejected webhook requests counted in memory (never one store row
or one log line each).

The limits (also in the README's Security section):
- pairing codes: 10 wrong codes per client in 5 minutes lock that client out for 5
  minutes; 30 wrong codes from all clients in 1 minute lock pairing for everyone for 1
  minute. A code is single-use and lives 5 minutes, so at most 150 guesses can be made
  against it: odds 150 / 32**6, about 1 in 7 million.
- request bodies: at most `MAX_BODY_BYTES`; a longer one is answered 413 unread.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.sync.lan.auth import CODE_ALPHABET, CODE_LENGTH, PAIRING_TTL_S, RateLimiter

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
PAIR_CLIENT_FAILURES, PAIR_CLIENT_WINDOW_S, PAIR_CLIENT_LOCK_S = 10, 300.0, 300.0
PAIR_ALL_FAILURES, PAIR_ALL_WINDOW_S, PAIR_ALL_LOCK_S = 30, 60.0, 60.0
ALL_CLIENTS = "pairing:all"


def max_guesses_per_code() -> int:
    """The most wrong codes all clients together can try during one code's life."""
    # a burst of PAIR_ALL_FAILURES, then everyone waits PAIR_ALL_LOCK_S (a slower pace
    # that never trips the lock gets fewer in)
    return PAIR_ALL_FAILURES * math.ceil(PAIRING_TTL_S / PAIR_ALL_LOCK_S)


def guessing_odds() -> float:
    """The chance that guessing finds a given live pairing code before it expires."""
    return max_guesses_per_code() / float(len(CODE_ALPHABET) ** CODE_LENGTH)


class PairingGuard:
    """Wrong pairing codes, per client and from everyone together (see the module)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        # held from the check to the count of one attempt: concurrent guesses cannot
        # slip past a limit that the first of them reaches
        self.lock = threading.Lock()
        self.per_client = RateLimiter(
            PAIR_CLIENT_FAILURES, PAIR_CLIENT_WINDOW_S, PAIR_CLIENT_LOCK_S, clock, "pairing codes"
        )
        self.everyone = RateLimiter(
            PAIR_ALL_FAILURES, PAIR_ALL_WINDOW_S, PAIR_ALL_LOCK_S, clock, "pairing codes"
        )

    def retry_after(self, client: str) -> float:
        """Seconds until this client may try a code again (0: now)."""
        return max(
            self.per_client.retry_after(f"ip:{client}"), self.everyone.retry_after(ALL_CLIENTS)
        )

    def wrong_code(self, client: str) -> None:
        self.per_client.failure(f"ip:{client}")
        self.everyone.failure(ALL_CLIENTS)


# --- request bodies -----------------------------------------------------------------------


def _problem(status: int, detail: str) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"detail": detail}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, body


async def _send_problem(send: Any, status: int, detail: str) -> None:
    start, body = _problem(status, detail)
    await send(start)
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: a request body longer than `limit` is answered 413 before the app
    (and so before authentication, parsing or any store access) sees it. A declared
    Content-Length is checked before a byte of the body is read; a chunked body is read
    up to the limit only."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        too_big = f"the request body is larger than {self.limit // 1024} KB"
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _send_problem(send, 400, "bad Content-Length header")
                return
            if size > self.limit:
                await _send_problem(send, 413, too_big)
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            await self.app(scope, receive, send)
            return
        messages: list[Any] = []
        total = 0
        while True:
            msg = await receive()
            messages.append(msg)
            if msg["type"] != "http.request":
                break
            total += len(msg.get("body", b""))
            if total > self.limit:
                await _send_problem(send, 413, too_big)
                return
            if not msg.get("more_body", False):
                break

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class AllowHeader:
    """ASGI middleware: a 405 answer's `Allow` lists every method of the path (Starlette
    lists only the first route's when GET and POST are two routes)."""

    def __init__(self, app: Any, methods_of: Callable[[str], list[str]]) -> None:
        self.app, self.methods_of = app, methods_of

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_allow(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = self.methods_of(scope["path"])
                if methods:
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"
                    ]
                    headers.append((b"allow", ", ".join(methods).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allow)


# --- rejected webhook requests -----------------------------------------------------------


@dataclass
class Rejections:
    """Rejected webhook requests, counted in memory: a flood of forged requests writes
    nothing to the store and at most one warning line per `every_s`."""

    every_s: float = 60.0
    clock: Callable[[], float] = time.time
    total: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    _since_log: int = 0
    _logged_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, client: str, reason: str) -> bool:
        """Count one rejection; True when it was logged (the first in each period)."""
        key = reason.split(" (")[0][:60]
        now = self.clock()
        with self._lock:
            self.total += 1
            self._since_log += 1
            if key in self.by_reason or len(self.by_reason) < 50:
                self.by_reason[key] = self.by_reason.get(key, 0) + 1
            if now - self._logged_at < self.every_s:
                return False
            n, self._since_log, self._logged_at = self._since_log, 0, now
        log.warning(
            "POS webhook request from %s rejected: %s (%s rejected since the last such line; "
            "%s since start)",
            client,
            reason,
            n,
            self.total,
        )
        return True
