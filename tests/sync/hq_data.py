"""Realistic store data for the HQ sync tests, written through the real store writer:
vision events of every kind (with personal markers that must never reach HQ),
salespeople, service sessions, scans and POS purchases."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app import events as ev
from app.store.db import Store
from app.store.models import ItemScan, Purchase, Salesperson, ServiceSession

T0 = 1_767_258_000.0  # 2026-01-01 09:00 UTC, a bucket boundary
VISITOR = "7f3b0e9c-visitor-secret-id"
MARKERS = {
    "visitor id": VISITOR,
    "salesperson name": "Marie Curie-Secret",
    "pin hash": "$argon2id$PIN-HASH-SECRET",
    "crop bytes": "JPEGSECRETBYTES",
    "camera password": "hunter2-rtsp-pw",
    "alert free text": "ALERT-TEXT-WITH-NAME",
    "enrolled staff name": "Stella Staff-Secret",
    "recognised visitor id": "face-visitor-secret-id",
    "consent by": "manager-consent-secret",
}


def vision_events(t0: float = T0, n: int = 20) -> list[object]:
    """n minutes of a door camera: every event type the store persists."""
    out: list[object] = [ev.CameraStatus("door", "connecting", "", 0.0, t0 - 5)]
    out.append(
        ev.CameraStatus("door", "live", f"rtsp://admin:{MARKERS['camera password']}@x", 12.5, t0)
    )
    for i in range(n):
        ts = t0 + 60 * i
        visit = str(uuid.uuid4())
        out += [
            ev.LineCross("door", ts, i, ts - t0, "door-line", "in", i, VISITOR),
            ev.EntranceEntered("door", ts + 1, i, ts - t0, "main", "inside", i, VISITOR),
            ev.PassedBy("door", ts + 2, i, ts - t0, "main", "door-line", 1000 + i),
            ev.ZoneEnter("door", ts + 3, i, ts - t0, "inside", i, VISITOR, visit),
            ev.Occupancy("door", ts + 4, i, ts - t0, "inside", 1 + i % 4),
            ev.NewVisitor(
                "door", ts + 5, i, ts - t0, "inside", VISITOR, i,
                b"\xff\xd8" + MARKERS["crop bytes"].encode(),
            ),  # fmt: skip
            ev.ZoneExit("door", ts + 30, i, ts - t0, "inside", i, VISITOR, visit, 27.0),
            ev.VisitClosed("door", ts + 40, i, ts - t0, "inside", VISITOR, visit, ts + 3, ts + 30, 27.0),
            ev.LineCross("door", ts + 50, i, ts - t0, "door-line", "out", i, VISITOR),
        ]  # fmt: skip
    out.append(ev.CameraStatus("door", "stalled", "no frames", 0.0, t0 + 60 * n))
    out.append(ev.Alert("camera_offline", MARKERS["alert free text"], "door", "", t0 + 60 * n + 1))
    return out


def add_sales(s: Session, t0: float = T0, sessions: int = 6) -> None:
    """Two salespeople, service sessions with scans, purchases linked or not."""
    people = [
        Salesperson(name=MARKERS["salesperson name"], employee_code="E100",
                    pin_hash=MARKERS["pin hash"]),
        Salesperson(name="Other Person-Secret", employee_code="E200", pin_hash="$argon2id$x"),
    ]  # fmt: skip
    s.add_all(people)
    s.flush()
    for k in range(sessions):
        start = t0 + 600 * k
        sid = str(uuid.uuid4())
        sp = people[k % 2]
        s.add(
            ServiceSession(
                id=sid, salesperson_id=sp.id, zone="inside", visitor_id=VISITOR,
                started_at=start, ended_at=start + 300 if k < sessions - 1 else None,
                device_id="tablet-1",
            )
        )  # fmt: skip
        s.flush()
        for j in range(k % 3 + 1):
            s.add(ItemScan(session_id=sid, barcode=f"400{j}", ts=start + 10 * j,
                           idempotency_key=f"{sid}-{j}"))  # fmt: skip
        if k % 2 == 0:  # a linked purchase
            s.add(Purchase(transaction_id=f"T{k}", line_no=0, ts=start + 400, barcode="4000",
                           amount=19.9 + k, salesperson_code="", session_id=sid))  # fmt: skip
    s.add(Purchase(transaction_id="T-walkin", line_no=0, ts=t0 + 50, barcode="999",
                   amount=5.0, salesperson_code="E200"))  # fmt: skip
    s.add(Purchase(transaction_id="T-walkin", line_no=1, ts=t0 + 50, barcode="998",
                   amount=2.5, salesperson_code="E200"))  # fmt: skip


def populate(store: Store, t0: float = T0, minutes: int = 20) -> None:
    store.writer.ingest_many(vision_events(t0, minutes)).result(30)
    store.writer.submit(lambda s: add_sales(s, t0)).result(30)
    add_count_audit(store, t0 + 60 * minutes)


def add_recognition(store: Store, t0: float = T0) -> list[bytes]:
    """Opt-in recognition's rows: an enrolled staff member, visitors' templates and the
    day's counts (2 new, 1 returning, 1 staff); returns the templates' raw bytes."""
    import numpy as np

    from app.store.faces import FaceStore, to_blob

    rng = np.random.default_rng(7)
    tpl = [v / np.linalg.norm(v) for v in rng.normal(size=(4, 128)).astype(np.float32)]
    faces = FaceStore(store, clock=lambda: t0 + 600)
    faces.enrol_staff(MARKERS["enrolled staff name"], tpl[0], MARKERS["consent by"])
    vid = MARKERS["recognised visitor id"]
    for outcome, v in (("new", tpl[1]), ("new", tpl[2]), ("returning", tpl[3])):
        faces.record(outcome, v, vid, "door").result(30)
    faces.record("staff", None, vid, "door").result(30)
    return [to_blob(v) for v in tpl]


def add_count_audit(store: Store, ts: float) -> None:
    """A counting audit of the door line: 19 matched, 1 missed, 2 extra."""
    from app.count_audit import Crossing, match_crossings
    from app.store.count_audits import save_audit

    truth = [Crossing("entry", "in", float(i)) for i in range(0, 40, 2)]
    counted = [Crossing("entry", "in", t.t + 0.2) for t in truth[:19]]
    counted += [Crossing("entry", "out", 5.0), Crossing("entry", "out", 9.0)]
    save_audit(store, "door", "entry", match_crossings(truth, counted), 180.0, ts=ts)
