"""Clothes colours: similar for the same clothes, far apart for others; what a person in
front hides is left out."""

from __future__ import annotations

import numpy as np
import pytest

from app.vision.appearance import describe, distance, known, plain_view

RED, BLUE, GREEN = (30, 30, 200), (200, 60, 30), (40, 180, 40)


def person(img: np.ndarray, box: tuple[int, int, int, int], top, bottom) -> None:
    x0, y0, x1, y1 = box
    mid = (y0 + y1) // 2
    img[y0:mid, x0:x1] = top
    img[mid:y1, x0:x1] = bottom


def frame(*people: tuple[tuple[int, int, int, int], tuple, tuple]) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(90, 140, (480, 640, 3), dtype=np.uint8)  # textured grey street
    for box, top, bottom in people:
        person(img, box, top, bottom)
    return img


A = (100, 100, 160, 300)
B = (400, 120, 460, 320)


def test_same_clothes_are_close_other_clothes_far() -> None:
    img = frame((A, RED, BLUE), (B, RED, BLUE))
    looks, vis = describe(img, np.array([A, B], float))
    assert vis.tolist() == [1.0, 1.0]
    assert distance(looks[0], looks[1]) < 0.2
    other = frame((A, RED, BLUE), (B, GREEN, GREEN))
    looks2, _ = describe(other, np.array([A, B], float))
    assert distance(looks2[0], looks2[1]) > 0.8


def test_a_person_in_front_is_left_out_of_the_look() -> None:
    behind = (100, 100, 160, 300)  # feet at y = 300
    front = (110, 200, 190, 360)  # feet at y = 360: closer, covers the lower half
    img = frame((behind, RED, BLUE))
    person(img, front, GREEN, GREEN)
    looks, vis = describe(img, np.array([behind, front], float))
    assert vis[0] < 0.85 and vis[1] == 1.0
    alone, _ = describe(frame((behind, RED, BLUE)), np.array([behind], float))
    assert distance(looks[0], alone[0]) < 0.25  # the green coat in front is not counted
    both = [list(map(float, behind)), list(map(float, front))]
    assert plain_view(both[1], both, img.shape) == 1.0
    assert plain_view(both[0], both, img.shape) < 0.85


def test_unknown_looks_are_no_evidence() -> None:
    looks, vis = describe(frame(), np.array([[700, 10, 720, 50], [10, 10, 11, 12]], float))
    assert vis.tolist() == [0.0, 0.0]
    assert not known(looks[0]) and not known(looks[1])
    ok, _ = describe(frame((A, RED, BLUE)), np.array([A], float))
    assert distance(looks[0], ok[0]) == 0.0


@pytest.mark.parametrize("n", [0, 1, 5])
def test_shapes(n: int) -> None:
    boxes = np.array([[10 + 50 * i, 10, 50 + 50 * i, 110] for i in range(n)], float)
    looks, vis = describe(frame(), boxes.reshape(-1, 4))
    assert looks.shape[0] == n and vis.shape == (n,)
    assert np.allclose(looks.sum(axis=2)[looks.sum(axis=2) > 0], 1.0)


def test_distance_is_the_mean_bhattacharyya_distance_of_parts_known_in_both() -> None:
    rng = np.random.default_rng(5)
    a = rng.random((2, 128)).astype(np.float32)
    b = rng.random((2, 128)).astype(np.float32)
    a /= a.sum(axis=1, keepdims=True)
    b /= b.sum(axis=1, keepdims=True)
    per_part = [np.sqrt(1 - np.sqrt(a[k].astype(float) * b[k]).sum()) for k in range(2)]
    assert distance(a, b) == pytest.approx(np.mean(per_part), abs=1e-6)
    assert distance(a, a) == pytest.approx(0.0, abs=1e-3)
    b[1] = 0  # the lower part unknown in b: only the upper part counts
    assert distance(a, b) == pytest.approx(per_part[0], abs=1e-6)
    assert distance(a, np.zeros_like(a)) == 0.0  # no evidence
