"""Face templates in the encrypted store: enrolment with consent, opt-outs, erasure by
photo (audited, a second search finds nothing), visitor expiry with a fake clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from app.config import AppConfig
from app.recognition import PhotoFaces, RecognitionError, StoreGallery, enrol, erase_by_photo
from app.store import retention as r
from app.store.db import Store
from app.store.faces import DAY, FaceStore
from app.store.models import AuditLog, FaceRecord, PersonCrop
from app.vision.faces.match import match
from tests.conftest import MEDIA

FACES = MEDIA / "faces"
OBAMA = [FACES / "obama__obama.jpg", FACES / "obama__obama2.jpg"]
BIDEN = [FACES / "biden__biden.jpg", FACES / "biden__biden2.jpg"]
T0 = 1_800_000_000.0


@pytest.fixture(scope="module")
def photo_faces() -> PhotoFaces:
    return PhotoFaces.open(AppConfig())


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _crop(store: Store, visitor_id: str) -> None:
    store.writer.submit(
        lambda s: s.add(
            PersonCrop(visitor_id=visitor_id, created_at=T0, expires_at=T0 + 9e9, jpeg=b"jpg")
        )
    ).result(10)


def test_staff_need_consent(store: Store, photo_faces: PhotoFaces) -> None:
    with pytest.raises(RecognitionError, match="consent"):
        enrol(
            AppConfig(), store, "Ana", "staff", OBAMA, "manager", consent=False, faces=photo_faces
        )
    assert FaceStore(store).face_rows() == 0


def test_enrol_list_remove(store: Store, photo_faces: PhotoFaces) -> None:
    cfg = AppConfig()
    enrol(cfg, store, "Ana", "staff", OBAMA, "manager", consent=True, faces=photo_faces)
    enrol(cfg, store, "Bob", "optout", BIDEN[:1], "manager", consent=False, faces=photo_faces)
    fs = FaceStore(store)
    people = {(p.name, p.role) for p in fs.people()}
    assert people == {("Ana", "staff"), ("Bob", "optout")}
    assert fs.remove("Ana", "manager") == 1
    assert {p.name for p in fs.people()} == {"Bob"}
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(FaceRecord)) == 0
        targets = set(s.scalars(select(AuditLog.target)))
    assert {"staff Ana", "opt-out Bob", "face enrolment Ana"} <= targets


def test_a_photo_without_a_face_is_a_clear_error(
    store: Store, photo_faces: PhotoFaces, tmp_path: Path
) -> None:
    import cv2

    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((300, 300, 3), 200, np.uint8))
    with pytest.raises(RecognitionError, match="no clear face"):
        enrol(AppConfig(), store, "X", "optout", [blank], "m", consent=False, faces=photo_faces)


def test_optout_wins_over_a_staff_enrolment(store: Store, photo_faces: PhotoFaces) -> None:
    cfg = AppConfig()
    enrol(cfg, store, "Ana", "staff", OBAMA[:1], "m", consent=True, faces=photo_faces)
    enrol(cfg, store, "Ana (opt-out)", "optout", OBAMA[:1], "m", consent=False, faces=photo_faces)
    g = StoreGallery(FaceStore(store)).gallery()
    probe = photo_faces.sample(OBAMA[1]).embedding
    assert match(probe, g, cfg.faces.threshold, visitors=True).kind == "optout"


def test_erasure_by_photo_finds_deletes_and_audits(store: Store, photo_faces: PhotoFaces) -> None:
    cfg = AppConfig()
    fs = FaceStore(store)
    # two visits of Obama and one of Biden, each with its crop
    for vid, photo in (("v-o1", OBAMA[0]), ("v-o2", OBAMA[1]), ("v-b1", BIDEN[0])):
        fs.record("new", photo_faces.sample(photo).embedding, vid, "door").result(10)
        _crop(store, vid)
    first = erase_by_photo(cfg, store, OBAMA[1], "manager", faces=photo_faces)
    assert (first.visitor_templates, first.crops) == (2, 2)
    with store.read_session() as s:
        assert list(s.scalars(select(FaceRecord.visitor_id))) == ["v-b1"]
        assert list(s.scalars(select(PersonCrop.visitor_id))) == ["v-b1"]
        row = s.execute(select(AuditLog).where(AuditLog.action == "erase")).scalar_one()
    assert row.actor == "manager" and row.ts > 0 and "2 visitor template(s)" in row.detail
    assert "jpg" not in row.detail
    second = erase_by_photo(cfg, store, OBAMA[0], "manager", faces=photo_faces, dry_run=True)
    assert second.total == 0


def test_visitor_templates_expire_with_a_fake_clock(store: Store) -> None:
    clock = Clock(T0)
    fs = FaceStore(store, visitor_days=30, clock=clock, cache_s=0)
    v = np.ones(128, np.float32) / np.sqrt(128)
    fs.record("new", v, "v1", "door").result(10)
    assert len(fs.templates().visitors) == 1
    clock.t = T0 + 29.9 * DAY
    assert len(fs.templates().visitors) == 1
    clock.t = T0 + 30 * DAY  # expired: never matched again, even before the purge
    assert len(fs.templates().visitors) == 0
    rep = r.run_retention(store, AppConfig().retention, now=clock.t)
    assert rep.deleted["face_records"] == 1
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(FaceRecord)) == 0


def test_visitor_days_are_capped_at_30(store: Store) -> None:
    clock = Clock(T0)
    fs = FaceStore(store, visitor_days=90, clock=clock)
    fs.record("returning", np.ones(128, np.float32), "v1", "door").result(10)
    with store.read_session() as s:
        assert s.scalar(select(FaceRecord.expires_at)) == T0 + 30 * DAY


def test_staff_records_keep_no_template(store: Store) -> None:
    fs = FaceStore(store)
    fs.record("staff", np.ones(128, np.float32), "v1", "door").result(10)
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(FaceRecord)) == 0
    assert sum(d["staff"] for d in fs.visits_by_day().values()) == 1


def test_privacy_mode_changes_are_audited_and_leaving_repeat_forgets_visitors(
    store: Store,
) -> None:
    from app.store.settings_store import save_in_session

    cfg = AppConfig()
    store.writer.submit(lambda s: save_in_session(s, cfg, "setup")).result(10)
    on = cfg.model_copy(deep=True)
    on.faces.notice_confirmed_at = T0
    on.store.privacy_mode = "repeat_visitors"
    store.writer.submit(lambda s: save_in_session(s, on, "manager")).result(10)
    FaceStore(store).record("new", np.ones(128, np.float32), "v1", "door").result(10)
    store.writer.submit(lambda s: save_in_session(s, cfg, "manager")).result(10)
    with store.read_session() as s:
        rows = s.execute(
            select(AuditLog.actor, AuditLog.target, AuditLog.detail, AuditLog.ts).where(
                AuditLog.action == "privacy_mode"
            )
        ).all()
        assert s.scalar(select(func.count()).select_from(FaceRecord)) == 0
    assert [(r.actor, r.target) for r in rows] == [
        ("manager", "anonymous -> repeat_visitors"),
        ("manager", "repeat_visitors -> anonymous"),
    ]
    assert "notice" in rows[0].detail and rows[0].ts > 0
    assert "1 visitor face template(s) deleted" in rows[1].detail


def test_a_return_within_the_hour_is_the_same_visit(store: Store) -> None:
    clock = Clock(T0)
    fs = FaceStore(store, clock=clock, cache_s=0)
    g = StoreGallery(fs)
    v = np.ones(128, np.float32) / np.sqrt(128)
    assert g.record("new", "", v, "v1", "door") == "new"
    fs.store.writer.flush()
    key = fs.templates().visitor_keys[0]
    clock.t = T0 + 600  # lost and found again by the tracker, ten minutes later
    assert g.record("returning", key, v, "v2", "door") == "new"
    clock.t = T0 + 3 * DAY  # back three days later: a return
    assert g.record("returning", key, v, "v3", "door") == "returning"
    fs.store.writer.flush()
    days = fs.visits_by_day()
    assert sum(d["new"] for d in days.values()) == 1
    assert sum(d["returning"] for d in days.values()) == 1
