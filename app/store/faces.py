"""Face templates in the encrypted store (opt-in recognition only).

Templates never leave this file's tables: staff (enrolled with recorded consent, kept
until removed), the opt-out list ("do not recognise me") and visitor templates (repeat
visitors mode, each visit's template expires after faces.visitor_days, 30 at most).
`face_visits` holds counts only (camera, time, outcome). Removing, erasing by photo and
enrolling are audited (what, when, by whom; never an image).

The matching itself is vision's (app/vision/faces/match.py); this module stores and
finds unit vectors and never decides who anyone is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.store.access import StoreAccess, reclaim_space
from app.store.audit import audit
from app.store.models import FaceRecord, FaceVisit, OptOut, PersonCrop, Staff

DAY = 86400.0
NEVER = 1e300  # staff templates expire when the person is removed
OUTCOMES = ("staff", "new", "returning")


def to_blob(v: np.ndarray) -> bytes:
    return np.asarray(v, np.float32).reshape(-1).tobytes()


def from_blob(b: bytes) -> np.ndarray:
    return np.frombuffer(b, np.float32)


def _rows(vectors: list[np.ndarray]) -> np.ndarray:
    if not vectors:
        return np.zeros((0, 0), np.float32)
    return np.stack(vectors).astype(np.float32)


@dataclass(frozen=True)
class Templates:
    """Unit rows to match against (shape (n, d)), with their keys."""

    optout: np.ndarray
    staff: np.ndarray
    staff_keys: tuple[str, ...]
    visitors: np.ndarray
    visitor_keys: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # staff | optout
    since: float
    consent_at: float | None = None


@dataclass
class Erasure:
    """What an erasure by photo found and deleted."""

    staff: list[str] = field(default_factory=list)
    visitor_templates: int = 0
    crops: int = 0
    optouts_kept: int = 0  # an opt-out entry is kept: it is what keeps them unrecognised

    @property
    def total(self) -> int:
        return len(self.staff) + self.visitor_templates + self.crops


def visits_per_day(
    s: Session, start: float, end: float, tz: ZoneInfo
) -> dict[date, dict[str, int]]:
    """Recognised tracks per local day and outcome (staff / new / returning) in
    [start, end): counts only, for the reports."""
    out: dict[date, dict[str, int]] = {}
    rows = s.execute(
        select(FaceVisit.ts, FaceVisit.outcome).where(FaceVisit.ts >= start, FaceVisit.ts < end)
    )
    for ts, outcome in rows:
        d = datetime.fromtimestamp(ts, tz).date()
        day = out.setdefault(d, dict.fromkeys(OUTCOMES, 0))
        day[outcome] = day.get(outcome, 0) + 1
    return dict(sorted(out.items()))


def visit_frequency(s: Session, now: float, threshold: float) -> dict[int, int]:
    """How many visitors came how many times, over the unexpired visitor templates
    (one per visit): visits grouped greedily by similarity >= threshold, oldest first.
    {visits: people}; counts only, nobody is named."""
    rows = s.execute(
        select(FaceRecord.embedding)
        .where(FaceRecord.kind == "visitor", FaceRecord.expires_at > now)
        .order_by(FaceRecord.created_at)
    ).all()
    heads: list[np.ndarray] = []
    sizes: list[int] = []
    for (blob,) in rows:
        v = from_blob(blob)
        sims = [float(h @ v) for h in heads]
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= threshold:
            sizes[best] += 1
        else:
            heads.append(v)
            sizes.append(1)
    out: dict[int, int] = {}
    for n in sizes:
        out[n] = out.get(n, 0) + 1
    return dict(sorted(out.items()))


class FaceStore:
    """The store side of recognition. Thread-safe (reads: sessions; writes: the writer)."""

    def __init__(
        self,
        store: StoreAccess,
        *,
        visitor_days: float = 30.0,
        clock: Callable[[], float] = time.time,
        cache_s: float = 10.0,
    ) -> None:
        self.store = store
        self.visitor_days = min(30.0, visitor_days)
        self.clock = clock
        self.cache_s = cache_s
        self._cache: tuple[float, Templates] | None = None

    # --- reads ---------------------------------------------------------------------

    def templates(self) -> Templates:
        """The unexpired templates (cached `cache_s`; writes here refresh it)."""
        now = self.clock()
        if self._cache is not None and now - self._cache[0] < self.cache_s:
            return self._cache[1]
        with self.store.read_session() as s:
            opt = [from_blob(b) for b in s.scalars(select(OptOut.embedding))]
            staff = s.execute(
                select(FaceRecord.embedding, Staff.name)
                .join(Staff, Staff.id == FaceRecord.staff_id)
                .where(FaceRecord.kind == "staff")
            ).all()
            vis = s.execute(
                select(FaceRecord.id, FaceRecord.embedding).where(
                    FaceRecord.kind == "visitor", FaceRecord.expires_at > now
                )
            ).all()
        t = Templates(
            optout=_rows(opt),
            staff=_rows([from_blob(r.embedding) for r in staff]),
            staff_keys=tuple(r.name for r in staff),
            visitors=_rows([from_blob(r.embedding) for r in vis]),
            visitor_keys=tuple(str(r.id) for r in vis),
        )
        self._cache = (now, t)
        return t

    def template_age(self, key: str) -> float:
        """Seconds since a visitor template (a key of `templates()`) was made; inf when
        it is gone."""
        try:
            rid = int(key)
        except ValueError:
            return float("inf")
        with self.store.read_session() as s:
            made = s.scalar(select(FaceRecord.created_at).where(FaceRecord.id == rid))
        return float("inf") if made is None else self.clock() - float(made)

    def people(self) -> list[Person]:
        """Enrolled staff and opt-outs (names only; never a template)."""
        with self.store.read_session() as s:
            staff = [
                Person(r.name, "staff", r.created_at, r.consent_at)
                for r in s.scalars(select(Staff).order_by(Staff.name))
                if r.consent_at is not None
            ]
            opt = [
                Person(r.note or f"opt-out #{r.id}", "optout", r.created_at)
                for r in s.scalars(select(OptOut).order_by(OptOut.created_at))
            ]
        return staff + opt

    def face_rows(self) -> int:
        """Every row holding or derived from a face: templates, opt-outs, visit counts."""
        with self.store.read_session() as s:
            return sum(
                int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in (FaceRecord, OptOut, FaceVisit)
            )

    def visits_by_day(self, tz: str = "UTC") -> dict[date, dict[str, int]]:
        """Recognised tracks per local day and outcome (staff / new / returning)."""
        with self.store.read_session() as s:
            return visits_per_day(s, 0.0, 1e300, ZoneInfo(tz))

    # --- writes --------------------------------------------------------------------

    def _write(self, job: Callable[[Session], object]) -> object:
        out = self.store.writer.submit(job).result(30)
        self._cache = None
        return out

    def enrol_staff(self, name: str, template: np.ndarray, consent_by: str) -> None:
        """Add (or replace) a staff member's template; consent is recorded with it."""
        now = self.clock()

        def job(s: Session) -> None:
            staff = s.scalars(select(Staff).where(Staff.name == name)).first()
            if staff is None:
                staff = Staff(name=name, created_at=now)
                s.add(staff)
                s.flush()
            staff.consent_at, staff.consent_by = now, consent_by[:120]
            s.execute(delete(FaceRecord).where(FaceRecord.staff_id == staff.id))
            s.add(
                FaceRecord(
                    visitor_id="",
                    staff_id=staff.id,
                    embedding=to_blob(template),
                    created_at=now,
                    expires_at=NEVER,
                    kind="staff",
                )
            )
            audit(s, consent_by, "enrol", f"staff {name}", "consent recorded")

        self._write(job)

    def enrol_optout(self, name: str, template: np.ndarray, actor: str) -> None:
        """Add someone to the opt-out list (checked before any other match)."""
        now = self.clock()

        def job(s: Session) -> None:
            s.add(OptOut(embedding=to_blob(template), created_at=now, note=name[:200]))
            audit(s, actor, "enrol", f"opt-out {name}")

        self._write(job)

    def remove(self, name: str, actor: str) -> int:
        """Remove a staff member (template included) or an opt-out entry by name."""

        def job(s: Session) -> int:
            n = 0
            for st in s.scalars(select(Staff).where(Staff.name == name)).all():
                s.execute(delete(FaceRecord).where(FaceRecord.staff_id == st.id))
                s.delete(st)
                n += 1
            res = s.execute(delete(OptOut).where(OptOut.note == name))
            n += int(getattr(res, "rowcount", 0) or 0)
            if n:
                audit(s, actor, "delete", f"face enrolment {name}", f"{n} row(s)")
            return n

        return int(self._write(job))  # type: ignore[call-overload]

    def record(
        self, outcome: str, template: np.ndarray | None, visitor_id: str, camera: str
    ) -> Future[None]:
        """A decided track: its count, and (new / returning visitors only) this visit's
        template, kept until it expires. Queued on the writer without waiting (the
        analysis thread calls it); the future resolves after COMMIT."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = self.clock()

        def job(s: Session) -> None:
            s.add(FaceVisit(ts=now, camera=camera[:80], outcome=outcome))
            if template is not None and outcome != "staff":
                s.add(
                    FaceRecord(
                        visitor_id=visitor_id[:36],
                        embedding=to_blob(template),
                        created_at=now,
                        expires_at=now + self.visitor_days * DAY,
                        kind="visitor",
                    )
                )

        fut: Future[None] = self.store.writer.submit(job)
        self._cache = None
        return fut

    def erase_like(
        self, probe: np.ndarray, threshold: float, actor: str, *, dry_run: bool = False
    ) -> Erasure:
        """Find every template matching `probe` (a photo's embedding) and delete it with
        the crops of the visits it came from; audited. `dry_run`: only find."""
        probe = np.asarray(probe, np.float32).reshape(-1)

        def job(s: Session) -> Erasure:
            rep = Erasure()
            rows = s.execute(
                select(
                    FaceRecord.id,
                    FaceRecord.embedding,
                    FaceRecord.kind,
                    FaceRecord.visitor_id,
                    FaceRecord.staff_id,
                )
            ).all()
            hit = [r for r in rows if float(from_blob(r.embedding) @ probe) >= threshold]
            opt = s.scalars(select(OptOut.embedding)).all()
            rep.optouts_kept = sum(float(from_blob(b) @ probe) >= threshold for b in opt)
            visitor_ids = {r.visitor_id for r in hit if r.kind == "visitor" and r.visitor_id}
            rep.visitor_templates = sum(r.kind == "visitor" for r in hit)
            staff_ids = {r.staff_id for r in hit if r.kind == "staff" and r.staff_id is not None}
            if staff_ids:
                rep.staff = list(s.scalars(select(Staff.name).where(Staff.id.in_(staff_ids))))
            if visitor_ids:
                rep.crops = int(
                    s.scalar(
                        select(func.count())
                        .select_from(PersonCrop)
                        .where(PersonCrop.visitor_id.in_(visitor_ids))
                    )
                    or 0
                )
            if dry_run:
                return rep
            if hit:
                s.execute(delete(FaceRecord).where(FaceRecord.id.in_([r.id for r in hit])))
            if staff_ids:
                s.execute(delete(Staff).where(Staff.id.in_(staff_ids)))
            if visitor_ids:
                s.execute(delete(PersonCrop).where(PersonCrop.visitor_id.in_(visitor_ids)))
            audit(
                s,
                actor,
                "erase",
                "faces matching a photo",
                f"{len(rep.staff)} staff, {rep.visitor_templates} visitor template(s), "
                f"{rep.crops} crop(s) deleted; {rep.optouts_kept} opt-out entry(ies) kept",
            )
            return rep

        if dry_run:
            with self.store.read_session() as s:
                return job(s)
        rep = self._write(job)
        assert isinstance(rep, Erasure)
        if rep.total:
            reclaim_space(self.store)
        return rep

    def purge_expired(self) -> int:
        """Delete visitor templates past their expiry now (retention also does it daily)."""
        now = self.clock()

        def job(s: Session) -> int:
            res = s.execute(
                delete(FaceRecord).where(FaceRecord.kind == "visitor", FaceRecord.expires_at <= now)
            )
            n = int(getattr(res, "rowcount", 0) or 0)
            if n:
                audit(s, "retention", "delete", "expired visitor face templates", f"{n}")
            return n

        return int(self._write(job))  # type: ignore[call-overload]

    def forget_visitors(self, actor: str) -> int:
        """Delete every visitor template (e.g. when leaving repeat visitors mode)."""

        def job(s: Session) -> int:
            res = s.execute(delete(FaceRecord).where(FaceRecord.kind == "visitor"))
            n = int(getattr(res, "rowcount", 0) or 0)
            if n:
                audit(s, actor, "delete", "all visitor face templates", f"{n}")
            return n

        return int(self._write(job))  # type: ignore[call-overload]
