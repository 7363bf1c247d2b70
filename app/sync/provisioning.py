"""The store side of provisioning: read the file HQ made for this store (app/hq/stores.py
documents it), enrol once with HQ, and save what enrolment gives: the store's id and
name (an unnamed store takes HQ's), sync on, the HQ address, and the store key into the
secret vault through the same settings code as the desktop and the CLI.

The key is never printed, logged or written to config.toml (app.settings keeps secrets
in the vault). Every problem is a ProvisioningError with one line for the user; the file
is checked (format, version, expiry, address) before any request is made, and a store
that already holds data under another id is refused before the one-time token is spent.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr, ValidationError
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.config import AppConfig, StoreIdentity, SyncConfig
from app.store.models import StoreInfo

FORMAT = "vitrine-provisioning"
VERSIONS = (1,)
TIMEOUT = httpx.Timeout(20.0, connect=8.0)
DEFAULT_NAME = StoreIdentity.model_fields["name"].default
# tables whose rows mean the store has recorded something under its current id
DATA_TABLES = ("sync_outbox", "rollups", "line_crossings", "zone_visits", "entrance_events",
               "purchases", "service_sessions")  # fmt: skip
FIELDS = ("store_id", "store_name", "hq_url", "enrol_path", "enrolment_token", "expires_at")


class ProvisioningError(Exception):
    """A one-line reason the provisioning file cannot be used."""


@dataclass(frozen=True)
class Provisioning:
    store_id: str
    store_name: str
    hq_url: str
    enrol_path: str
    token: str  # secret until spent: never shown
    expires_at: datetime

    def __repr__(self) -> str:
        return f"Provisioning(store_id={self.store_id!r}, hq_url={self.hq_url!r})"


def read_file(
    path: Path, allow_insecure_http: bool = False, now: datetime | None = None
) -> Provisioning:
    """The checked content of a provisioning file; ProvisioningError otherwise."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProvisioningError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvisioningError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProvisioningError(f"{path}: not a provisioning file (not JSON)") from None
    return parse(data, allow_insecure_http, now)


def parse(
    data: Any, allow_insecure_http: bool = False, now: datetime | None = None
) -> Provisioning:
    """Validate the decoded JSON of a provisioning file (pure)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProvisioningError(f"not a Vitrine provisioning file (its format is not {FORMAT!r})")
    version = data.get("version")
    if version not in VERSIONS or isinstance(version, bool):
        raise ProvisioningError(
            f"provisioning file version {version!r} is not supported by this Vitrine "
            f"(it reads version {', '.join(map(str, VERSIONS))}): update Vitrine or ask HQ"
        )
    bad = [f for f in FIELDS if not isinstance(data.get(f), str) or not data[f].strip()]
    if bad:
        raise ProvisioningError(f"provisioning file is missing {', '.join(bad)}")
    expires = _expiry(data["expires_at"])
    if expires <= (now or datetime.now(UTC)):
        raise ProvisioningError(
            f"provisioning file expired on {expires:%Y-%m-%d %H:%M} UTC: ask HQ for a new one"
        )
    hq_url = data["hq_url"].strip().rstrip("/")
    _check_url(hq_url, allow_insecure_http)
    path = data["enrol_path"].strip()
    if not path.startswith("/") or "://" in path:
        raise ProvisioningError(f"provisioning file enrol_path {path!r} must start with /")
    return Provisioning(
        data["store_id"].strip(), data["store_name"].strip(), hq_url, path,
        data["enrolment_token"].strip(), expires,
    )  # fmt: skip


def _expiry(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ProvisioningError(f"provisioning file expires_at {value!r} is not a date") from None
    if when.tzinfo is None:
        raise ProvisioningError(f"provisioning file expires_at {value!r} has no time zone")
    return when.astimezone(UTC)


def _check_url(url: str, allow_insecure_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProvisioningError(f"provisioning file hq_url {url!r} is not an http(s):// address")
    try:
        SyncConfig(hq_url=url, allow_insecure_http=allow_insecure_http)
    except ValidationError as err:
        msg = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ProvisioningError(f"provisioning file: {msg}") from None


# --- which identity the store ends up with (pure) ---------------------------------------


def identity_problem(cfg: AppConfig, p: Provisioning, holds_data: bool) -> str | None:
    """Why this store cannot become `p.store_id` (None: it can)."""
    if cfg.store.id == p.store_id or not holds_data:
        return None
    return (
        f"this store already holds data as store {cfg.store.id!r}; it cannot become "
        f"{p.store_id!r}: use this file on a new installation, or ask HQ for a file for "
        f"{cfg.store.id!r}"
    )


def provisioned_config(cfg: AppConfig, p: Provisioning, key: str) -> AppConfig:
    """`cfg` with HQ's identity (the name only if the store is unnamed), sync on, the key."""
    data = cfg.model_dump()
    data["store"]["id"] = p.store_id
    if cfg.store.name.strip() in ("", DEFAULT_NAME):
        data["store"]["name"] = p.store_name[:120]
    data["sync"].update(enabled=True, hq_url=p.hq_url, store_key=SecretStr(key))
    return AppConfig.model_validate(data)


# --- HQ -----------------------------------------------------------------------------------


def enrol(p: Provisioning, transport: httpx.BaseTransport | None = None) -> str:
    """Spend the token at HQ: the store key, or ProvisioningError saying why not."""
    url = p.hq_url + p.enrol_path
    body = {"store_id": p.store_id, "enrolment_token": p.token}
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport) as client:
            resp = client.post(url, json=body)
    except httpx.ConnectError as exc:
        if _is_tls(exc):
            raise ProvisioningError(
                f"the secure (TLS) connection to HQ at {p.hq_url} failed: {_reason(exc)}"
            ) from None
        raise ProvisioningError(f"cannot reach HQ at {p.hq_url}: {_reason(exc)}") from None
    except httpx.TimeoutException:
        raise ProvisioningError(f"HQ at {p.hq_url} did not answer in time; try again") from None
    except httpx.HTTPError as exc:
        raise ProvisioningError(f"cannot reach HQ at {p.hq_url}: {_reason(exc)}") from None
    return _key_from(resp, p)


def _key_from(resp: httpx.Response, p: Provisioning) -> str:
    if resp.status_code in (401, 403, 404, 422):
        detail = _detail(resp)
        raise ProvisioningError(
            f"HQ at {p.hq_url} refused the enrolment of store {p.store_id!r} "
            f"(HTTP {resp.status_code}: {detail})"
        )
    if resp.status_code != 200:
        raise ProvisioningError(f"HQ at {p.hq_url} answered HTTP {resp.status_code}; try later")
    try:
        answer = resp.json()
    except ValueError:
        answer = None
    key = answer.get("store_key") if isinstance(answer, dict) else None
    if not isinstance(key, str) or not key or answer.get("store_id") != p.store_id:
        raise ProvisioningError(f"HQ at {p.hq_url} gave no store key for store {p.store_id!r}")
    return key


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI's validation errors
        return "the file's store id or token is not valid"
    return str(detail or resp.reason_phrase)[:200]


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]


# --- the store ----------------------------------------------------------------------------


def holds_data(store: Any) -> bool:
    """Whether the store has recorded anything (counts, sales, rows for HQ)."""
    with store.read_session() as s:
        return any(
            s.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() is not None  # noqa: S608
            for t in DATA_TABLES
        )


@dataclass(frozen=True)
class Enrolled:
    cfg: AppConfig  # holds the key: save it, never print it
    message: str


def provision(
    path: Path, store: Any, cfg: AppConfig, transport: httpx.BaseTransport | None = None
) -> Enrolled:
    """Read and check the file, refuse a store that is someone else, enrol with HQ and
    rename the store's identity row; the caller saves the returned config (save_config)."""
    p = read_file(path, cfg.sync.allow_insecure_http)
    problem = identity_problem(cfg, p, holds_data(store))
    if problem:
        raise ProvisioningError(problem)
    key = enrol(p, transport)
    new = provisioned_config(cfg, p, key)
    if new.store.id != cfg.store.id:
        store.writer.submit(lambda s: _rename(s, p.store_id)).result(30)
    return Enrolled(new, f"enrolled with HQ at {p.hq_url} as store {p.store_id}; sync is on")


def _rename(s: Session, store_id: str) -> None:
    s.execute(update(StoreInfo).values(id=store_id))


def provision_and_save(
    path: Path, store: Any, cfg: AppConfig, author: str = "provisioning"
) -> Enrolled:
    """provision() then save through app.store.settings_store (the key into the vault)."""
    from app.store.settings_store import save_config

    done = provision(path, store, cfg)
    try:
        save_config(store, done.cfg, author).result(timeout=60)
    except OSError as exc:
        raise ProvisioningError(
            f"enrolled, but the settings could not be saved ({exc}): ask HQ for a new file"
        ) from None
    return done
