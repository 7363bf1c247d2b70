"""Compiled inner loops of tracking (numba): IoU, Kalman steps, box conversions, the
split of detections by score, bottom-centre points, and the stitcher's clothes-colour
histograms and look distances.

Per analysed frame the tracker works on a handful of boxes (a few people, a few
detections). At that size numpy's cost is its per-call overhead, not arithmetic (2-4 us
per operation on a small CPU; the IoU of 7 x 7 boxes took 25 us in numpy, 1.4 us
here). These loops do the same arithmetic in the same order, compiled (`cache=True`:
compiled once per machine, ~3.5 s, then loaded from the `__pycache__` folder or, when
that is read-only, numba's user cache), each a single call. `warm_up()` compiles or
loads them all; `CameraPipeline` calls it when it is built.

The functions take float64 arrays (the histograms: 8-bit HSV and int64 lookup tables)
and are used through `app.vision.kalman`, `app.vision.tracker`, `app.vision.geometry`
and `app.vision.appearance`.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def as_boxes(a: np.ndarray) -> np.ndarray:
    """(N, 4) C-contiguous float64, the form the box kernels take."""
    return np.ascontiguousarray(np.asarray(a, np.float64).reshape(-1, 4))


@njit(cache=True, nogil=True)
def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4) x (B, 4) xyxy -> (A, B) IoU (0 where the union is empty)."""
    out = np.zeros((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        area_a = (a[i, 2] - a[i, 0]) * (a[i, 3] - a[i, 1])
        for j in range(b.shape[0]):
            w = max(min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0]), 0.0)
            h = max(min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1]), 0.0)
            inter = w * h
            union = area_a + (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1]) - inter
            if union > 0:
                out[i, j] = inter / max(union, 1e-9)
    return out


@njit(cache=True, nogil=True)
def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    out = np.empty((xyah.shape[0], 4))
    for i in range(xyah.shape[0]):
        half_h = xyah[i, 3] / 2
        half_w = xyah[i, 2] * half_h
        out[i, 0] = xyah[i, 0] - half_w
        out[i, 1] = xyah[i, 1] - half_h
        out[i, 2] = xyah[i, 0] + half_w
        out[i, 3] = xyah[i, 1] + half_h
    return out


@njit(cache=True, nogil=True)
def xyxy_to_xyah(xyxy: np.ndarray) -> np.ndarray:
    out = np.empty((xyxy.shape[0], 4))
    for i in range(xyxy.shape[0]):
        w = xyxy[i, 2] - xyxy[i, 0]
        h = xyxy[i, 3] - xyxy[i, 1]
        out[i, 0] = xyxy[i, 0] + w / 2
        out[i, 1] = xyxy[i, 1] + h / 2
        out[i, 2] = w / h
        out[i, 3] = h
    return out


@njit(cache=True, nogil=True)
def bottom_centers(xyxy: np.ndarray) -> np.ndarray:
    """(N, 4) xyxy -> (N, 2) bottom-centre points ((x0 + x1) / 2, y1)."""
    out = np.empty((xyxy.shape[0], 2))
    for i in range(xyxy.shape[0]):
        out[i, 0] = (xyxy[i, 0] + xyxy[i, 2]) / 2.0
        out[i, 1] = xyxy[i, 3]
    return out


@njit(cache=True, nogil=True)
def score_rows(
    xyxy: np.ndarray, scores: np.ndarray, high: float, low: float
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of usable boxes (finite, positive width and height, finite score) with
    a score >= `high`, and those with `low` <= score < `high`, each in row order."""
    n = xyxy.shape[0]
    hi = np.empty(n, np.int64)
    lo = np.empty(n, np.int64)
    nh = nl = 0
    for i in range(n):
        s = scores[i]
        x0, y0, x1, y1 = xyxy[i, 0], xyxy[i, 1], xyxy[i, 2], xyxy[i, 3]
        finite = np.isfinite(x0) and np.isfinite(y0) and np.isfinite(x1) and np.isfinite(y1)
        if not (finite and np.isfinite(s) and x1 - x0 > 0 and y1 - y0 > 0):
            continue
        if s >= high:
            hi[nh] = i
            nh += 1
        elif s >= low:
            lo[nl] = i
            nl += 1
    return hi[:nh], lo[:nl]


@njit(cache=True, nogil=True)
def kalman_predict(
    mean: np.ndarray,
    var: np.ndarray,
    qx_scale: np.ndarray,
    qx_fixed: np.ndarray,
    qv_scale: np.ndarray,
    qv_fixed: np.ndarray,
) -> None:
    """In place, per track and coordinate: x += v; the 2x2 block [[xx, xv], [xv, vv]]
    becomes [[xx + 2 xv + vv + qx, xv + vv], [xv + vv, vv + qv]] (noise std = height
    before the step * scale + fixed)."""
    for i in range(mean.shape[0]):
        h = mean[i, 3]
        for k in range(4):
            mean[i, k] += mean[i, k + 4]
            xx, xv, vv = var[i, 0, k], var[i, 1, k], var[i, 2, k]
            qx = h * qx_scale[k] + qx_fixed[k]
            qv = h * qv_scale[k] + qv_fixed[k]
            var[i, 1, k] = xv + vv
            var[i, 0, k] = xx + xv + (xv + vv) + qx * qx
            var[i, 2, k] = vv + qv * qv


@njit(cache=True, nogil=True)
def kalman_update(
    mean: np.ndarray,
    var: np.ndarray,
    rows: np.ndarray,
    z: np.ndarray,
    r_scale: np.ndarray,
    r_fixed: np.ndarray,
) -> None:
    """In place, for the tracks at `rows` (measurement z[n] for rows[n]), per
    coordinate: S = xx + r, gain (xx, xv) / S, x += gain_x (z - x), v += gain_v (z - x),
    P -= K S K^T (noise std = height before the step * scale + fixed)."""
    for n in range(rows.shape[0]):
        i = rows[n]
        h = mean[i, 3]
        for k in range(4):
            rs = h * r_scale[k] + r_fixed[k]
            xx, xv, vv = var[i, 0, k], var[i, 1, k], var[i, 2, k]
            s = xx + rs * rs
            kx = xx / s
            kv = xv / s
            innovation = z[n, k] - mean[i, k]
            mean[i, k] += kx * innovation
            mean[i, k + 4] += kv * innovation
            var[i, 0, k] = xx - kx * xx
            var[i, 1, k] = xv - kx * xv
            var[i, 2, k] = vv - kv * xv


@njit(cache=True, nogil=True)
def clothes_histograms(
    hsv: np.ndarray,
    fronts: np.ndarray,
    bottom_y: float,
    region: np.ndarray,
    h_code: np.ndarray,
    s_code: np.ndarray,
    v_code: np.ndarray,
    part_rows: np.ndarray,
    min_visible: float,
    bins: int,
) -> tuple[np.ndarray, float]:
    """Colour histograms of the parts of a person's resized clothes crop (`hsv`,
    OpenCV 8-bit HSV) with the pixels that `fronts` (N, 4) boxes standing in front
    (bottom edge lower than `bottom_y`) cover left out; `region` (left, top, right,
    bottom) is where the crop came from in the frame. A pixel's bin is h_code[h] +
    s_code[s] + v_code[v]. Returns ((parts, bins) histograms, each summing to 1, all
    zero for a part less than `min_visible` seen; the share of the crop seen)."""
    crop_h, crop_w = hsv.shape[0], hsv.shape[1]
    left, top, right, bottom = region[0], region[1], region[2], region[3]
    mask = np.ones((crop_h, crop_w))
    sx, sy = crop_w / (right - left), crop_h / (bottom - top)
    for f in range(fronts.shape[0]):
        fx0, fy0, fx1, fy1 = fronts[f, 0], fronts[f, 1], fronts[f, 2], fronts[f, 3]
        if fy1 > bottom_y + 1.0 and fx0 < right and fx1 > left and fy0 < bottom and fy1 > top:
            c0 = min(max(int(np.floor((fx0 - left) * sx)), 0), crop_w)
            c1 = min(max(int(np.ceil((fx1 - left) * sx)), 0), crop_w)
            r0 = min(max(int(np.floor((fy0 - top) * sy)), 0), crop_h)
            r1 = min(max(int(np.ceil((fy1 - top) * sy)), 0), crop_h)
            mask[r0:r1, c0:c1] = 0.0
    out = np.zeros((part_rows.shape[0], bins), np.float32)
    hist = np.zeros(bins)
    for k in range(part_rows.shape[0]):
        hist[:] = 0.0
        seen = 0.0
        for y in range(part_rows[k, 0], part_rows[k, 1]):
            for x in range(crop_w):
                if mask[y, x] > 0:
                    code = h_code[hsv[y, x, 0]] + s_code[hsv[y, x, 1]] + v_code[hsv[y, x, 2]]
                    hist[code] += mask[y, x]
                    seen += mask[y, x]
        size = (part_rows[k, 1] - part_rows[k, 0]) * crop_w
        if seen < min_visible * size:
            continue
        for b in range(bins):
            out[k, b] = hist[b] / seen
    return out, mask.sum() / mask.size


@njit(cache=True, nogil=True)
def look_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Bhattacharyya distance over the parts (rows) known (non-zero) in both
    (parts, bins) histograms; 0.0 when none is."""
    total, parts = 0.0, 0
    for k in range(a.shape[0]):
        known_a, known_b = False, False
        for j in range(a.shape[1]):
            known_a = known_a or a[k, j] != 0
            known_b = known_b or b[k, j] != 0
        if not (known_a and known_b):
            continue
        bc = 0.0
        for j in range(a.shape[1]):
            bc += np.sqrt(max(a[k, j], 0.0) * max(b[k, j], 0.0))
        total += np.sqrt(min(max(1.0 - bc, 0.0), 1.0))
        parts += 1
    return total / parts if parts else 0.0


def warm_up() -> None:
    """Compile (or load from the cache) every kernel now, on tiny inputs, so that a
    pipeline's first frame does not wait for it (a few seconds, once per machine)."""
    boxes = np.array([[10.0, 20.0, 50.0, 120.0], [12.0, 22.0, 52.0, 122.0]])
    xyah = xyxy_to_xyah(boxes)
    xyah_to_xyxy(xyah)
    iou_matrix(boxes, boxes)
    bottom_centers(boxes)
    score_rows(boxes, np.ones(2), 0.5, 0.1)
    mean = np.zeros((2, 8))
    var = np.ones((2, 3, 4))
    four = np.ones(4)
    kalman_predict(mean, var, four, four, four, four)
    kalman_update(mean, var, np.arange(2), xyah, four, four)
    hsv = np.zeros((8, 4, 3), np.uint8)
    codes = np.zeros(256, np.int64)
    rows = np.array([[0, 4], [4, 8]], np.int64)
    hists, _ = clothes_histograms(
        hsv, boxes, 0.0, np.array([0.0, 0.0, 4.0, 8.0]), codes, codes, codes, rows, 0.3, 2
    )
    look_distance(hists, hists)
