"""Recognition privacy rules end to end: anonymous mode never looks for a face and keeps
no face row; staff are left out of every count (and the tablets' list, and HQ's
counts); nothing face-related reaches an HQ payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from app.cli.main import main
from app.config import AppConfig, parse_config
from app.events import EventBus, LineCross, NewVisitor, VisitClosed, ZoneEnter
from app.store.db import Store, open_store
from app.store.faces import FaceStore
from app.store.models import OutboxRow, PersonCrop
from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline
from app.wire import schema
from tests.conftest import MEDIA
from tests.vision.test_pipeline import CFG, PassThroughTracker, ScriptedDetector, frames, person

HAMILTON = MEDIA / "video" / "short_hamilton_clip.mp4"


@pytest.fixture
def no_face_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to load a face model is recorded (and fails)."""
    from app.vision.faces import detect, embed

    loads: list[str] = []

    def refuse(self: object, *a: object, **k: object) -> None:
        loads.append(type(self).__name__)
        raise AssertionError("a face model was loaded")

    monkeypatch.setattr(detect.FaceDetector, "__init__", refuse)
    monkeypatch.setattr(embed.Embedder, "__init__", refuse)
    return loads


def test_anonymous_analyze_of_a_clip_with_faces_keeps_no_face_row(
    tmp_path: Path, no_face_models: list[str]
) -> None:
    db = tmp_path / "store.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text('[store]\nprivacy_mode = "anonymous"\n')
    rc = main(["analyze", str(HAMILTON), "--config", str(cfg), "--store", str(db),
               "--duration", "3", "--no-progress"])  # fmt: skip
    assert rc == 0
    assert no_face_models == []  # the face detector never ran, not even loaded
    store = open_store(db)
    try:
        assert FaceStore(store).face_rows() == 0
    finally:
        store.close()


def test_anonymous_engine_loads_no_face_model(store: Store, no_face_models: list[str]) -> None:
    from app.recognition import pipeline_recogniser

    assert pipeline_recogniser(AppConfig(), store) is None
    assert no_face_models == []


class StaffTagger:
    """Stand-in recogniser: the given tracks are staff from the frame they appear in."""

    def __init__(self, staff: set[int]) -> None:
        self.staff = staff
        self.seen: set[int] = set()

    @property
    def tags(self) -> dict[int, str]:
        return {t: "staff" for t in self.seen & self.staff}

    def observe(
        self, image: np.ndarray, tracked: Detections, t: float, visitor_of: Callable[[int], str]
    ) -> dict[int, str]:
        self.seen |= set(tracked.tracker_id.tolist())
        return self.tags

    def flush(self, visitor_of: Callable[[int], str]) -> None:
        pass


def _merge(*tracks: list[Detections]) -> list[Detections]:
    out = []
    for rows in zip(*tracks, strict=True):
        out.append(
            Detections.create(
                np.concatenate([r.xyxy for r in rows]),
                np.concatenate([r.confidence for r in rows]),
                np.concatenate([r.class_id for r in rows]),
                np.concatenate([r.tracker_id for r in rows]),
            )
        )
    return out


def _walks() -> list[Detections]:
    staff = [person(5, 100, 260 - 15 * k) for k in range(12)]  # crosses the door, enters
    customer = [person(6, 300, 260 - 15 * k) for k in range(12)]
    return _merge(staff, customer)


def _run(bus: EventBus) -> tuple[CameraPipeline, list[object]]:
    seen: list[object] = []
    bus.subscribe(seen.append)
    p = CameraPipeline(
        "cam", parse_config(CFG), ScriptedDetector(_walks()), bus,
        tracker=PassThroughTracker(), motion=False, stitcher=False, faces=StaffTagger({5}),
    )  # fmt: skip
    results = [p.process(f) for f in frames(12)]
    p.flush()
    assert results[-1].extra["face_tags"] == {5: "staff"}
    assert sorted(results[-1].detections.tracker_id.tolist()) == [5, 6]  # shown, tagged
    assert results[-1].occupancy == {"shop": 1}
    assert results[-1].line_counts == {"door": {"in": 1, "out": 0}}
    return p, seen


def test_staff_are_left_out_of_every_count() -> None:
    p, seen = _run(EventBus())
    counted = [e for e in seen if isinstance(e, LineCross | ZoneEnter | NewVisitor)]
    assert counted and {e.track_id for e in counted} == {6}
    enters = [e for e in counted if isinstance(e, ZoneEnter)]
    closed = [e for e in seen if isinstance(e, VisitClosed)]
    assert [c.visitor_id for c in closed] == [enters[0].visitor_id]  # dwell: customer only
    assert p.analytics.dwell["shop"].visits == 1


def test_staff_reach_neither_the_tablets_nor_hq(store: Store) -> None:
    bus = EventBus()
    store.attach(bus)
    _run(bus)
    store.writer.flush()
    with store.read_session() as s:
        crops = list(s.scalars(select(PersonCrop.visitor_id)))
        payloads = [json.loads(p) for p in s.scalars(select(OutboxRow.payload))]
    assert len(crops) == 1  # the customer's picture for the tablets; none of staff
    assert payloads, "rollups were queued for HQ"
    door = [p for p in payloads if p.get("name") == "door"]
    shop = [p for p in payloads if p.get("name") == "shop"]
    assert sum(p["entries"] for p in door) == 1  # the customer; staff are not footfall
    assert sum(p["dwell_count"] for p in shop) == 1 and max(p["occupancy_peak"] for p in shop) == 1
    text = json.dumps(payloads).lower()
    for word in ("face", "embedding", "template", "staff", "optout", "visitor_id"):
        assert word not in text


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return {str(k).lower() for k in node} | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_the_hq_schema_names_no_face_data() -> None:
    """The HQ payload refuses unnamed fields; none of its names is about faces or a
    person. Recognition's daily counts (`visit_day`) are counts, nothing more."""
    names = _keys(schema())
    words = ("face", "embed", "template", "biometric", "crop", "jpeg", "image", "visitor_id",
             "track", "staff_name", "person_id", "vector")  # fmt: skip
    assert not [n for n in names if any(w in n for w in words)]
    day = schema()["$defs"]["visit_day"]
    assert set(day["properties"]) == {"day", "new_visitors", "returning_visitors",
                                      "staff_excluded"}  # fmt: skip
    assert day["additionalProperties"] is False


def test_time_in_staff_only_zones_makes_a_track_staff_without_faces() -> None:
    cfg = dict(CFG)
    cfg["zones"] = [
        *CFG["zones"],
        {"name": "stockroom", "polygon": [[0, 0], [60, 0], [60, 300], [0, 300]]},
    ]
    cfg["faces"] = {"staff_zones": ["stockroom"], "staff_zone_minutes": 0.02}  # 1.2 s
    worker = [person(7, 30, 200) for _ in range(12)]  # stands in the stockroom
    p = CameraPipeline(
        "cam", parse_config(cfg), ScriptedDetector(worker), None,
        tracker=PassThroughTracker(), motion=False, stitcher=False,
    )  # fmt: skip
    assert p.faces is None  # no face is looked for: the rule is about time, not faces
    results = [p.process(f) for f in frames(12)]
    assert results[2].extra == {}  # not yet
    assert results[-1].extra["face_tags"] == {7: "staff"}
    assert results[-1].occupancy["stockroom"] == 0
