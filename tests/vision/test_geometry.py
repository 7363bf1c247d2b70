"""Pure geometry: sides, segment crossings, polygons."""

from __future__ import annotations

import numpy as np
import pytest

from app.vision.geometry import (
    PolygonShape,
    bottom_centers,
    cross,
    path_line_intersection,
    points_in_polygon,
    polygon_centroid,
    segment_crossing,
    signed_distance,
    signed_polygon_distance,
)

H_LINE = ((100.0, 200.0), (300.0, 200.0))  # left to right: "in" is above (smaller y)
V_LINE = ((200.0, 100.0), (200.0, 300.0))  # top to bottom: "in" is to the right


def test_sign_convention_matches_spec() -> None:
    start, end = H_LINE
    assert cross(start, end, (200, 150)) < 0  # above a left-to-right line: "in" side
    assert cross(start, end, (200, 250)) > 0
    assert signed_distance(start, end, (200, 150)) == pytest.approx(-50)
    assert signed_distance(*V_LINE, (250, 200)) == pytest.approx(-50)  # right of a downward line


@pytest.mark.parametrize(
    ("line", "a", "b", "expected"),
    [
        (H_LINE, (200, 260), (200, 140), "in"),  # upwards through the middle
        (H_LINE, (200, 140), (200, 260), "out"),  # downwards through the middle
        (H_LINE, (100, 260), (100, 140), "in"),  # through the start point itself
        (H_LINE, (350, 260), (350, 140), None),  # beside it, past the end
        (H_LINE, (50, 260), (50, 140), None),  # beside it, before the start
        (H_LINE, (380, 260), (220, 140), "in"),  # diagonal from outside into the segment
        (H_LINE, (200, 260), (200, 210), None),  # approaches but stays on its side
        (H_LINE, (120, 150), (280, 150), None),  # moves parallel to it
        (H_LINE, (200, 250), (200, 200), "in"),  # ends exactly on the line
        (H_LINE, (200, 200), (200, 150), None),  # starts on the line: counted before
        (V_LINE, (150, 200), (260, 200), "in"),  # vertical line, left to right
        (V_LINE, (260, 200), (150, 200), "out"),
        (V_LINE, (150, 320), (260, 320), None),  # below its end
    ],
)
def test_segment_crossing(line, a, b, expected) -> None:
    assert segment_crossing(line[0], line[1], a, b) == expected


def test_intersection_parameter_along_segment() -> None:
    assert path_line_intersection(*H_LINE, (150, 250), (150, 150)) == pytest.approx(0.25)
    assert path_line_intersection(*H_LINE, (400, 250), (400, 150)) == pytest.approx(1.5)
    assert path_line_intersection(*H_LINE, (150, 250), (160, 240)) is None


def test_degenerate_line_is_refused() -> None:
    with pytest.raises(ValueError):
        signed_distance((1, 1), (1, 1), (3, 3))


SQUARE = np.array([[10, 10], [110, 10], [110, 110], [10, 110]], float)
CONCAVE = np.array(
    [[0, 0], [100, 0], [100, 100], [60, 100], [60, 40], [40, 40], [40, 100], [0, 100]]
)


@pytest.mark.parametrize(
    ("poly", "point", "inside"),
    [
        (SQUARE, (50, 50), True),
        (SQUARE, (5, 50), False),
        (SQUARE, (150, 150), False),
        (CONCAVE, (20, 80), True),
        (CONCAVE, (50, 80), False),  # in the notch
        (CONCAVE, (50, 20), True),
    ],
)
def test_points_in_polygon(poly, point, inside) -> None:
    assert bool(points_in_polygon(np.array([point], float), poly)[0]) is inside


def test_signed_polygon_distance() -> None:
    pts = np.array([[50, 50], [12, 50], [5, 50], [110, 130]], float)
    np.testing.assert_allclose(signed_polygon_distance(pts, SQUARE), [40, 2, -5, -20])
    assert signed_polygon_distance(np.zeros((0, 2)), SQUARE).shape == (0,)


def test_polygon_shape_matches_the_plain_functions() -> None:
    rng = np.random.default_rng(7)
    pts = rng.uniform(-20, 130, (500, 2))
    for poly in (SQUARE, CONCAVE):
        np.testing.assert_allclose(
            PolygonShape(poly).signed_distance(pts), signed_polygon_distance(pts, poly), atol=1e-4
        )
    assert PolygonShape(SQUARE).signed_distance(np.zeros((0, 2))).shape == (0,)


def test_bottom_centers_and_centroid() -> None:
    np.testing.assert_allclose(bottom_centers(np.array([[10, 20, 30, 100]])), [[20, 100]])
    boxes = np.random.default_rng(2).uniform(0, 500, (30, 4)).astype(np.float32)
    want = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
    np.testing.assert_allclose(bottom_centers(boxes), want, rtol=1e-6)
    assert bottom_centers(np.zeros((0, 4))).shape == (0, 2)
    assert polygon_centroid(SQUARE) == pytest.approx((60, 60))
