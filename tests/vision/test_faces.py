"""Face recognition engine: alignment, enrolment mean, opt-out-first matching, the track
vote, and the real YuNet + MobileFaceNet on ../shared/media/faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.config import AppConfig
from app.vision.detections import Detections
from app.vision.faces.align import TEMPLATE, similarity
from app.vision.faces.factory import open_models
from app.vision.faces.match import Gallery, Match, Vote, decide, match, robust_mean, unit
from app.vision.faces.quality import QualityRules
from app.vision.faces.recogniser import FaceRecogniser, RecognitionRules
from tests.conftest import MEDIA

FACES = MEDIA / "faces"
RNG = np.random.default_rng(7)


def test_similarity_recovers_a_known_transform() -> None:
    ang, k, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rot = k * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    src = (TEMPLATE - shift) @ np.linalg.inv(rot).T  # so that rot @ src + shift = TEMPLATE
    m = similarity(src)
    assert np.allclose(src @ m[:, :2].T + m[:, 2], TEMPLATE, atol=1e-6)


def _near(v: np.ndarray, noise: float) -> np.ndarray:
    return unit(v + noise * RNG.normal(size=v.shape))


def test_robust_mean_drops_the_outlier() -> None:
    person, stranger = unit(RNG.normal(size=128)), unit(RNG.normal(size=128))
    embs = np.stack([_near(person, 0.05) for _ in range(4)] + [stranger])
    template, kept = robust_mean(embs)
    assert kept == [0, 1, 2, 3]
    assert float(template @ person) > 0.95


def test_robust_mean_refuses_two_different_people() -> None:
    with pytest.raises(ValueError, match="same person"):
        robust_mean(np.stack([unit(RNG.normal(size=128)), unit(RNG.normal(size=128))]))


def _gallery(*, optout: np.ndarray, staff: np.ndarray, visitor: np.ndarray) -> Gallery:
    return Gallery(
        optout=optout[None],
        staff=staff[None],
        staff_keys=("ana",),
        visitors=visitor[None],
        visitor_keys=("17",),
    )


@pytest.mark.parametrize(
    ("who", "visitors", "expected"),
    [
        ("optout", True, "optout"),
        ("both", True, "optout"),  # someone on the opt-out list AND enrolled as staff
        ("staff", True, "staff"),
        ("visitor", True, "visitor"),
        ("visitor", False, None),  # staff exclusion mode never matches visitors
        ("nobody", True, None),
    ],
)
def test_match_checks_the_optout_list_first(who: str, visitors: bool, expected: str | None) -> None:
    a, b, c, d = (unit(RNG.normal(size=128)) for _ in range(4))
    g = _gallery(optout=a, staff=a if who == "both" else b, visitor=c)
    probe = {"optout": a, "both": a, "staff": b, "visitor": c, "nobody": d}[who]
    assert match(_near(probe, 0.02), g, 0.45, visitors=visitors).kind == expected


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ([("staff", "ana", 0.9)], ("staff", "ana")),
        ([("staff", "ana", 0.3)], ("unknown", "")),  # one poor look is not enough
        ([("staff", "ana", 0.3), ("staff", "ana", 0.3)], ("staff", "ana")),
        ([("staff", "ana", 0.9), (None, "", 0.2), (None, "", 0.2)], ("staff", "ana")),
        ([("staff", "ana", 0.4), (None, "", 0.9)], ("unknown", "")),  # big face wins
        ([("visitor", "3", 0.6), ("visitor", "4", 0.9)], ("visitor", "4")),
    ],
)
def test_track_vote_is_weighted_by_face_quality(
    votes: list[tuple[str | None, str, float]], expected: tuple[str, str]
) -> None:
    v = Vote()
    for kind, key, w in votes:
        v.add(Match(kind, key, 0.6), w)  # type: ignore[arg-type]
    assert decide(v) == expected


# --- real models -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def models() -> FaceRecogniser:
    det, emb = open_models(AppConfig())
    return FaceRecogniser(det, emb, None, RecognitionRules("staff_exclusion", 0.45))  # type: ignore[arg-type]


def _read(name: str) -> np.ndarray:
    img = cv2.imread(str(FACES / name))
    assert img is not None
    return np.asarray(img)


def _emb(models: FaceRecogniser, name: str) -> np.ndarray:
    img = _read(name)
    return models.samples(img)[0].embedding


def test_real_photos_same_person_above_threshold_others_below(models: FaceRecogniser) -> None:
    thr = AppConfig().faces.threshold
    names = sorted(p.name for p in FACES.iterdir() if "__" in p.name)
    embs = {n: _emb(models, n) for n in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            same = a.split("__")[0] == b.split("__")[0]
            assert (float(embs[a] @ embs[b]) >= thr) == same, (a, b)


class _Sink:
    def __init__(self, g: Gallery) -> None:
        self.g = g
        self.records: list[tuple[str, str, bool, str]] = []

    def gallery(self) -> Gallery:
        return self.g

    def record(
        self, outcome: str, key: str, template: object, visitor_id: str, camera: str
    ) -> None:
        self.records.append((outcome, key, template is not None, visitor_id))


def _person_frame(photo: str) -> tuple[np.ndarray, Detections]:
    """The photo as a camera frame with the whole picture as one tracked person box."""
    img = _read(photo)
    h, w = img.shape[:2]
    k = 720 / h
    img = cv2.resize(img, (int(w * k), 720))
    box = np.array([[0, 0, img.shape[1] - 1, 719 / 0.45]], np.float32)  # face in upper part
    return img, Detections.create(box, tracker_id=np.array([5]))


@pytest.mark.parametrize(
    ("mode", "enrolled_as", "expected_tag", "kept_template"),
    [
        ("staff_exclusion", "staff", "staff", False),
        ("staff_exclusion", "optout", None, False),
        ("staff_exclusion", "nobody", None, False),  # dropped: no record at all
        ("repeat_visitors", "nobody", "new", True),
        ("repeat_visitors", "visitor", "returning", True),
        ("repeat_visitors", "optout", None, False),
    ],
)
def test_track_tagging_on_a_real_face(
    models: FaceRecogniser,
    mode: str,
    enrolled_as: str,
    expected_tag: str | None,
    kept_template: bool,
) -> None:
    enrol = _emb(models, "obama__obama.jpg")[None]
    empty = np.zeros((0, enrol.shape[1]), np.float32)
    g = Gallery(
        optout=enrol if enrolled_as == "optout" else empty,
        staff=enrol if enrolled_as == "staff" else empty,
        staff_keys=("barack",) if enrolled_as == "staff" else (),
        visitors=enrol if enrolled_as == "visitor" else empty,
        visitor_keys=("1",) if enrolled_as == "visitor" else (),
    )
    sink = _Sink(g)
    rules = RecognitionRules(mode, 0.45, attempts_unknown=2, every_s=0.0)  # type: ignore[arg-type]
    rec = FaceRecogniser(models.detector, models.embedder, sink, rules)
    cam = rec.for_camera("door")
    img, tracked = _person_frame("obama__obama2.jpg")
    for t in range(3):
        tags = cam.observe(img, tracked, float(t), lambda _tid: "visitor-uuid")
    cam.flush()
    assert tags.get(5) == expected_tag
    if expected_tag is None:
        assert sink.records == []
    else:
        assert sink.records == [
            (
                expected_tag,
                "barack"
                if expected_tag == "staff"
                else ("1" if expected_tag == "returning" else ""),
                kept_template,
                "visitor-uuid",
            )
        ]


def test_small_and_blurred_faces_are_skipped(models: FaceRecogniser) -> None:
    img = _read("obama__obama.jpg")
    rules = QualityRules()
    rec = FaceRecogniser(
        models.detector,
        models.embedder,
        None,  # type: ignore[arg-type]
        RecognitionRules("staff_exclusion", 0.45, quality=rules),
    )
    assert rec.samples(img)
    tiny = cv2.resize(img, None, fx=0.08, fy=0.08)  # face ~20 px
    assert rec.samples(tiny) == []
    blurred = cv2.GaussianBlur(img, (0, 0), 12)
    assert rec.samples(blurred) == []


def test_a_pack_folder_without_a_recogniser_is_refused(tmp_path: Path) -> None:
    from app.vision.faces.pack import PackError, open_pack

    with pytest.raises(PackError, match="no .onnx"):
        open_pack(tmp_path)
