"""The store's HTTP client for HQ: one POST per batch, every failure in plain words."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

BATCHES_PATH = "/api/v1/batches"


class SyncError(Exception):
    """A failed upload; `str(exc)` is a sentence for the shop's manager."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SendResult:
    status: str  # "stored" | "duplicate"
    rows: int
    applied: int


def _fmt_s(seconds: float) -> str:
    return f"{seconds:g} s"


def _detail(resp: httpx.Response) -> str:
    try:
        body: Any = resp.json()
    except ValueError:
        return resp.text.strip()[:300]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(str(d.get("msg", d)) for d in detail[:3] if isinstance(d, dict))
    return str(detail or body)[:300]


def describe_response(resp: httpx.Response) -> str:
    code = resp.status_code
    detail = _detail(resp)
    if code == 401:
        return (
            f"HQ refused this store's key (HTTP 401: {detail}); check the store id and "
            "store key in the sync settings"
        )
    if code == 403:
        return f"HQ refused this store (HTTP 403: {detail})"
    if code in (400, 409, 413, 422):
        return f"HQ rejected the data (HTTP {code}: {detail})"
    if code == 404:
        return f"HQ has no upload address at {resp.request.url} (HTTP 404): check the HQ URL"
    if code == 503:
        return f"HQ is temporarily unavailable (HTTP 503: {detail})"
    if code >= 500:
        return f"HQ had an internal error (HTTP {code})"
    return f"HQ answered HTTP {code}: {detail}"


class HqClient:
    """POSTs gzip batches to `<hq_url>/api/v1/batches` with the store's id and key."""

    def __init__(
        self,
        hq_url: str,
        store_id: str,
        store_key: str,
        *,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(hq_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SyncError(f"the HQ address {hq_url!r} is not an http(s):// URL")
        self.base_url = hq_url.strip().rstrip("/")
        self.host = parts.hostname or parts.netloc
        self.store_id = store_id
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            headers={
                "Authorization": f"Bearer {store_key}",
                "X-Vitrine-Store": store_id,
                "User-Agent": "vitrine-store-sync",
            },
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def send(self, batch_id: str, body: bytes) -> SendResult:
        """Upload one gzip batch; raises SyncError (with a readable message) on failure."""
        try:
            resp = self._client.post(
                self.base_url + BATCHES_PATH,
                content=body,
                headers={
                    "Idempotency-Key": batch_id,
                    "Content-Encoding": "gzip",
                    "Content-Type": "application/json",
                },
            )
        except httpx.HTTPError as exc:
            raise SyncError(self.describe_exception(exc)) from exc
        if resp.status_code != 200:
            raise SyncError(describe_response(resp), resp.status_code)
        try:
            data = resp.json()
            return SendResult(str(data["status"]), int(data["rows"]), int(data["applied"]))
        except (ValueError, KeyError, TypeError):
            raise SyncError("HQ answered with something that is not a Vitrine receipt") from None

    def describe_exception(self, exc: httpx.HTTPError) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return f"HQ at {self.host} did not accept a connection within " + _fmt_s(
                self.connect_timeout_s
            )
        if isinstance(exc, httpx.TimeoutException):
            return f"HQ did not answer within {_fmt_s(self.timeout_s)}"
        if isinstance(exc, httpx.ConnectError):
            text = str(exc).lower()
            if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
                return f"cannot find HQ's address {self.host!r} (no network or a wrong HQ URL)"
            if "refused" in text:
                return f"cannot reach HQ at {self.base_url} (connection refused: HQ is down?)"
            return f"cannot reach HQ at {self.base_url} ({exc})"
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return "the connection to HQ broke during the upload"
        return f"the upload to HQ failed ({exc.__class__.__name__}: {exc})"
