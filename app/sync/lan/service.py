"""What the tablet API does, apart from HTTP: pairing, device tokens, zones, service
sessions and scans, each read through `store.read_session()` and written through the
single writer. Methods are blocking (the API runs them on its own small thread pool)
and raise `ApiError` with the HTTP status and a one-line message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import (
    ItemScan,
    PairedDevice,
    PersonCrop,
    Product,
    Salesperson,
    SalespersonZone,
    ServiceSession,
    ZoneVisit,
)
from app.sync.lan import scans
from app.sync.lan.auth import PairingCodes, RateLimiter, hash_token, new_token, verify_pin
from app.sync.lan.devices import DeviceInfo as DeviceInfo
from app.sync.lan.devices import list_devices as list_devices
from app.sync.lan.devices import revoke_device as revoke_device
from app.sync.lan.guard import PairingGuard
from app.sync.lan.live import LiveHub
from app.sync.lan.session_json import product_json, session_json
from app.sync.linking import relink_for_scans
from app.sync.store_protocol import StoreLike, write

log = logging.getLogger(__name__)

CACHE_S = 5.0  # token -> device cache; revocation through the service clears it at once
REFRESH_S = CACHE_S / 2  # a cached token used after this is reloaded in the background
SEEN_EVERY_S = 60.0
MAX_PAST_S = 24 * 3600.0  # a queued action older than this gets the server's time
MAX_FUTURE_S = 60.0


class ApiError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


@dataclass(frozen=True)
class DeviceCtx:
    device_id: str
    salesperson_id: int
    salesperson_name: str
    zones: frozenset[str]


def _minutes(seconds: float) -> str:
    m = max(1, round(seconds / 60))
    return "1 minute" if m == 1 else f"{m} minutes"


class TabletService:
    def __init__(
        self,
        store: StoreLike,
        hub: LiveHub,
        *,
        store_name: str = "Vitrine",
        link_window_s: float = 7200.0,
        codes: PairingCodes | None = None,
        limiter: RateLimiter | None = None,
        guard: PairingGuard | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.hub, self.store_name = store, hub, store_name
        self.guard = guard or PairingGuard(clock=clock)
        self.link_window_s = link_window_s
        self.codes = codes or PairingCodes(clock=clock)
        self.limiter = limiter or RateLimiter(clock=clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[DeviceCtx, float]] = {}
        self._refreshing: set[str] = set()
        self._generation = 0  # bumped by forget_cache()
        self._seen: dict[str, float] = {}

    def now(self) -> float:
        return self._clock()

    def client_ts(self, ts: float | None) -> float:
        """The tablet's time of an action if plausible (queued offline), else now."""
        now = self._clock()
        if ts is None or not now - MAX_PAST_S <= ts <= now + MAX_FUTURE_S:
            return now
        return min(ts, now)

    # --- pairing -----------------------------------------------------------------------

    def check_code(self, code: str, ip: str) -> None:
        """Refuse a wrong pairing code (401), or any code from a client (or, during a
        guessing flood, everyone) that tried too many wrong ones (429)."""
        with self.guard.lock:
            wait = self.guard.retry_after(ip)
            valid = wait <= 0 and self.codes.is_valid(code)
            if wait <= 0 and not valid:
                self.guard.wrong_code(ip)
        if wait > 0:
            raise ApiError(
                429,
                f"Too many wrong pairing codes. Try again in {_minutes(wait)}.",
                {"Retry-After": str(int(wait) + 1)},
            )
        if not valid:
            raise ApiError(401, "this pairing code is wrong or has expired: ask for a new one")

    def pairing_people(self, code: str, ip: str = "?") -> list[dict[str, Any]]:
        self.check_code(code, ip)
        with self.store.read_session() as s:
            rows = s.execute(
                select(Salesperson.id, Salesperson.name)
                .where(Salesperson.active.is_(True))
                .order_by(Salesperson.name)
            ).all()
        return [{"id": r[0], "name": r[1]} for r in rows]

    def pair(self, code: str, salesperson_id: int, pin: str, label: str, ip: str) -> dict:
        keys = (f"ip:{ip}", f"sp:{salesperson_id}")
        wait = self.limiter.retry_after(*keys)
        if wait > 0:
            raise ApiError(
                429,
                f"Too many wrong PINs. Try again in {_minutes(wait)}, with a new pairing "
                "code from your manager if this one has expired.",
                {"Retry-After": str(int(wait) + 1)},
            )
        self.check_code(code, ip)
        with self.store.read_session() as s:
            sp = s.get(Salesperson, salesperson_id)
            ok = sp is not None and sp.active and verify_pin(sp.pin_hash, pin)
            name = sp.name if sp else ""
        if not ok:
            self.limiter.failure(*keys)
            log.info("wrong PIN for salesperson %s from %s", salesperson_id, ip)
            raise ApiError(401, "wrong name or PIN")
        self.limiter.success(*keys)
        if not self.codes.take(code):  # another tablet used it meanwhile
            raise ApiError(401, "this pairing code is wrong or has expired: ask for a new one")
        token = new_token()
        device = PairedDevice(
            salesperson_id=salesperson_id,
            label=label.strip() or "tablet",
            token_hash=hash_token(token),
            created_at=self._clock(),
        )

        def _add(s: Session) -> str:
            s.add(device)
            s.flush()
            return device.id

        device_id = write(self.store, _add)
        log.info("device %s paired for salesperson %s", device_id, salesperson_id)
        return {
            "token": token,
            "device_id": device_id,
            "salesperson_id": salesperson_id,
            "salesperson_name": name,
        }

    # --- tokens ------------------------------------------------------------------------

    def cached_device(self, token: str | None) -> DeviceCtx | None:
        """The device of a token if known from the last few seconds (no I/O)."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            hit = self._cache.get(hash_token(token))
        if hit and now - hit[1] < CACHE_S:
            self._touch(hit[0].device_id, now)
            return hit[0]
        return None

    def claim_refresh(self, token: str) -> bool:
        """Whether the caller should reload this cached token now, in the background
        (`refresh`): its entry is past half its life and nobody is reloading it yet. So a
        busy tablet's token is reloaded before it expires and no request waits for it."""
        th = hash_token(token)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(th)
            if hit is None or now - hit[1] < REFRESH_S or th in self._refreshing:
                return False
            self._refreshing.add(th)
            return True

    def refresh(self, token: str) -> None:
        """Reload a token's device into the cache (or drop it if no longer valid)."""
        th = hash_token(token)
        try:
            self._load_cached(th)
        except ApiError:
            with self._lock:
                self._cache.pop(th, None)
        except Exception as exc:  # the entry simply expires; the next request reloads
            log.warning("could not refresh a tablet's token: %s", exc)
        finally:
            with self._lock:
                self._refreshing.discard(th)

    def authenticate(self, token: str | None) -> DeviceCtx:
        if not token:
            raise ApiError(401, "pair this tablet first", {"WWW-Authenticate": "Bearer"})
        ctx = self.cached_device(token)
        if ctx is not None:
            return ctx
        ctx = self._load_cached(hash_token(token))
        self._touch(ctx.device_id, self._clock())
        return ctx

    def _load_cached(self, th: str) -> DeviceCtx:
        """Load a device and cache it, unless the cache was cleared (a revocation) while
        it was being read: then the answer may predate the revocation."""
        with self._lock:
            generation = self._generation
        now = self._clock()
        ctx = self._load_device(th)
        with self._lock:
            if generation == self._generation:
                if len(self._cache) > 1000:
                    self._cache.clear()
                self._cache[th] = (ctx, now)
        return ctx

    def _load_device(self, th: str) -> DeviceCtx:
        with self.store.read_session() as s:
            row = s.execute(
                select(PairedDevice, Salesperson)
                .join(Salesperson, Salesperson.id == PairedDevice.salesperson_id)
                .where(PairedDevice.token_hash == th)
            ).first()
            if row is None or row[0].revoked_at is not None or not row[1].active:
                raise ApiError(
                    401,
                    "this tablet is not paired (or was revoked)",
                    {"WWW-Authenticate": "Bearer"},
                )
            dev, sp = row
            zones = s.execute(
                select(SalespersonZone.zone).where(SalespersonZone.salesperson_id == sp.id)
            ).scalars()
            return DeviceCtx(dev.id, sp.id, sp.name, frozenset(zones))

    def _touch(self, device_id: str, now: float) -> None:
        with self._lock:
            if now - self._seen.get(device_id, 0.0) < SEEN_EVERY_S:
                return
            self._seen[device_id] = now

        def _seen(s: Session) -> None:
            dev = s.get(PairedDevice, device_id)
            if dev is not None:
                dev.last_seen = now

        self.store.writer.submit(_seen)  # fire and forget

    def forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._generation += 1

    def revoke(self, device_id: str) -> bool:
        done = revoke_device(self.store, device_id, self._clock())
        self.forget_cache()
        return done

    def devices(self, include_revoked: bool = False) -> list[DeviceInfo]:
        return list_devices(self.store, include_revoked)

    # --- zones and products ------------------------------------------------------------

    @staticmethod
    def check_zone(ctx: DeviceCtx, zone: str) -> None:
        if zone not in ctx.zones:
            raise ApiError(403, f"zone {zone!r} is not assigned to {ctx.salesperson_name}")

    def check_visitor(self, zone: str, visitor_id: str) -> None:
        """A service is started on a customer of its zone: one the live list has in it,
        or one the store saw in it lately (an action queued offline). A customer seen
        only in other zones is refused (403), one never seen 404."""
        if self.hub.customer(zone, visitor_id) is not None:
            return
        since = self._clock() - MAX_PAST_S
        with self.store.read_session() as s:
            seen = set(
                s.execute(
                    select(ZoneVisit.zone)
                    .where(ZoneVisit.visitor_id == visitor_id, ZoneVisit.enter_ts > since)
                    .distinct()
                ).scalars()
            )
        if zone in seen:
            return
        if seen or self.hub.zones_of(visitor_id):
            raise ApiError(403, f"this customer is not in zone {zone!r}")
        raise ApiError(404, "no such customer in this zone")

    def present_customers(
        self, max_age_s: float = 7200.0, limit: int = 500
    ) -> list[tuple[str, str, str, float, bytes | None]]:
        """Zone visits still open (entered in the last `max_age_s`), newest first, with
        their stored crop: what the live list shows after a restart."""
        now = self._clock()
        with self.store.read_session() as s:
            visits = s.execute(
                select(ZoneVisit.zone, ZoneVisit.visitor_id, ZoneVisit.camera, ZoneVisit.enter_ts)
                .where(ZoneVisit.exit_ts.is_(None), ZoneVisit.enter_ts > now - max_age_s)
                .order_by(ZoneVisit.enter_ts.desc())
                .limit(limit)
            ).all()
            out = []
            for zone, vid, camera, entered in visits:
                jpeg = s.execute(
                    select(PersonCrop.jpeg)
                    .where(PersonCrop.visitor_id == vid, PersonCrop.expires_at > now)
                    .order_by(PersonCrop.created_at.desc())
                    .limit(1)
                ).scalar()
                out.append((zone, vid, camera, entered, bytes(jpeg) if jpeg else None))
        return out

    def crop(self, visitor_id: str) -> bytes | None:
        """The visitor's picture: from memory, else the newest unexpired one stored."""
        jpeg = self.hub.crop(visitor_id)
        if jpeg:
            return jpeg
        with self.store.read_session() as s:
            row = s.execute(
                select(PersonCrop.jpeg)
                .where(PersonCrop.visitor_id == visitor_id, PersonCrop.expires_at > self._clock())
                .order_by(PersonCrop.created_at.desc())
                .limit(1)
            ).scalar()
        return bytes(row) if row else None

    def product(self, barcode: str) -> dict[str, Any]:
        with self.store.read_session() as s:
            p = product_json(s.get(Product, barcode))
        if p is None:
            raise ApiError(404, f"barcode {barcode} is not in the catalog")
        return p

    # --- sessions ----------------------------------------------------------------------

    def start_session(
        self, ctx: DeviceCtx, session_id: str, zone: str, visitor_id: str, ts: float | None
    ) -> dict[str, Any]:
        self.check_zone(ctx, zone)
        if visitor_id:
            self.check_visitor(zone, visitor_id)
        started = self.client_ts(ts)

        def _start(s: Session) -> dict[str, Any]:
            ss = s.get(ServiceSession, session_id)
            if ss is None:
                ss = ServiceSession(
                    id=session_id,
                    salesperson_id=ctx.salesperson_id,
                    zone=zone,
                    visitor_id=visitor_id,
                    started_at=started,
                    device_id=ctx.device_id,
                )
                s.add(ss)
                s.flush()
            elif ss.device_id != ctx.device_id:
                raise ApiError(409, "this session id is already used")
            return session_json(s, ss, self._clock())

        out = write(self.store, _start)
        if visitor_id and out["ended_at"] is None:
            self.hub.set_served_by(zone, visitor_id, ctx.salesperson_name)
        return out

    def _own_session(self, s: Session, ctx: DeviceCtx, session_id: str) -> ServiceSession:
        ss = s.get(ServiceSession, session_id)
        if ss is None:
            raise ApiError(404, "no such service session")
        if ss.salesperson_id != ctx.salesperson_id:
            raise ApiError(403, "this service session belongs to someone else")
        return ss

    def add_scan(
        self,
        ctx: DeviceCtx,
        session_id: str,
        barcode: str,
        key: str,
        ts: float | None,
        confirmed: bool = False,
    ) -> dict[str, Any]:
        return write(self.store, self.scan_job(ctx, session_id, barcode, key, ts, confirmed))

    def scan_job(
        self,
        ctx: DeviceCtx,
        session_id: str,
        barcode: str,
        key: str,
        ts: float | None,
        confirmed: bool = False,
    ) -> Callable[[Session], dict[str, Any]]:
        """The writer job that records a scan (idempotent by `key`, see
        `app.sync.lan.scans`); the API submits it to the writer itself and awaits the
        commit without a pool thread."""
        job = scans.scan_job(
            ctx.salesperson_id,
            session_id,
            barcode,
            key,
            self.client_ts(ts),
            self.link_window_s,
            confirmed,
        )

        def _scan(s: Session) -> dict[str, Any]:
            try:
                return job(s)
            except scans.ScanRefused as exc:
                raise ApiError(exc.status, exc.detail) from None

        return _scan

    def remove_scan(self, ctx: DeviceCtx, session_id: str, key: str) -> dict[str, Any]:
        """Remove a wrong scan from an open service (idempotent); returns the service."""

        def _remove(s: Session) -> dict[str, Any]:
            try:
                scans.remove_scan(
                    s,
                    salesperson_id=ctx.salesperson_id,
                    session_id=session_id,
                    key=key,
                    link_window_s=self.link_window_s,
                )
            except scans.ScanRefused as exc:
                raise ApiError(exc.status, exc.detail) from None
            return session_json(s, self._own_session(s, ctx, session_id), self._clock())

        return write(self.store, _remove)

    def set_outcome(
        self, ctx: DeviceCtx, session_id: str, outcome: str, note: str
    ) -> dict[str, Any]:
        """Say how a service ended and add a note (open or ended, the salesperson's own)."""

        def _set(s: Session) -> dict[str, Any]:
            ss = self._own_session(s, ctx, session_id)
            ss.outcome, ss.note = outcome, note.strip()[:500]
            s.flush()
            return session_json(s, ss, self._clock())

        return write(self.store, _set)

    def my_services(self, ctx: DeviceCtx, since: float | None) -> list[dict[str, Any]]:
        """The salesperson's services started since `since` (the tablet's midnight; at
        most a day back), newest first, on any of their tablets."""
        now = self._clock()
        start = now - MAX_PAST_S if since is None else max(since, now - MAX_PAST_S)
        with self.store.read_session() as s:
            rows = s.execute(
                select(ServiceSession)
                .where(
                    ServiceSession.salesperson_id == ctx.salesperson_id,
                    ServiceSession.started_at >= start,
                )
                .order_by(ServiceSession.started_at.desc())
                .limit(100)
            ).scalars()
            return [session_json(s, ss, now) for ss in rows]

    def end_session(self, ctx: DeviceCtx, session_id: str, ts: float | None) -> dict[str, Any]:
        ended = self.client_ts(ts)

        def _end(s: Session) -> dict[str, Any]:
            ss = self._own_session(s, ctx, session_id)
            if ss.ended_at is None:
                ss.ended_at = max(ended, ss.started_at)
                codes = s.execute(
                    select(ItemScan.barcode).where(ItemScan.session_id == ss.id).distinct()
                ).scalars()
                relink_for_scans(s, list(codes), ss.started_at, self.link_window_s)
            return session_json(s, ss, self._clock())

        out = write(self.store, _end)
        if out["visitor_id"]:
            self.hub.set_served_by(out["zone"], out["visitor_id"], "")
        return out

    def get_session(self, ctx: DeviceCtx, session_id: str) -> dict[str, Any]:
        with self.store.read_session() as s:
            return session_json(s, self._own_session(s, ctx, session_id), self._clock())

    def open_sessions(self, ctx: DeviceCtx) -> list[dict[str, Any]]:
        with self.store.read_session() as s:
            rows = s.execute(
                select(ServiceSession)
                .where(
                    ServiceSession.device_id == ctx.device_id,
                    ServiceSession.ended_at.is_(None),
                    ServiceSession.started_at > self._clock() - MAX_PAST_S,
                )
                .order_by(ServiceSession.started_at.desc())
                .limit(20)
            ).scalars()
            return [session_json(s, ss, self._clock()) for ss in rows]
