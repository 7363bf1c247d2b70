"""A heatmap drawn over a camera's picture, without Qt (the CLI's PNG, the history
view's export): one colour map for every heatmap in the app (`heat_layer`, also the
live tiles'), a key from "less" to "more" time spent, a title.

The picture under the heatmap is the camera's reference view of the drift check
(app/vision/view_drift.py): the median of several frames, so people passing leave it,
small and grayscale, kept in the encrypted store. Without one, a plain dark
background with the picture's outline stands in.
"""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np

from app.vision.view_drift import decode_view

FONT = cv2.FONT_HERSHEY_SIMPLEX


def heat_layer(grid: np.ndarray, peak: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """A grid of presence (any unit) as colours (BGR uint8, the grid's shape) and their
    opacity (0..1 float32); None when the grid is empty. Scaled to its own maximum, or
    to `peak` when given (a fading view stays faint as it fades). Strong log
    compression: one person standing still must not hide the paths."""
    top = float(grid.max()) if grid.size else 0.0
    if top <= 0:
        return None
    scale = top if peak is None else max(float(peak), top)
    g = np.log1p(grid.astype(np.float32) / scale * 200.0) / np.log1p(200.0)
    level = float(g.max())  # how bright the hottest cell is (1 unless under `peak`)
    g = cv2.GaussianBlur(g, (0, 0), 1.2)
    g = g / max(float(g.max()), 1e-6) * level
    bgr = cv2.applyColorMap((g * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    alpha = np.clip((g - 0.05) * 2.0, 0, 1).astype(np.float32) * (165.0 / 255.0)
    return np.asarray(bgr), np.asarray(alpha, np.float32)


def background(png: bytes | None, width: int, height: int) -> np.ndarray | None:
    """The camera's reference view (PNG from the store) as a BGR picture of the given
    size, or None when there is none usable."""
    view = decode_view(png) if png else None
    if view is None:
        return None
    big = cv2.resize(view, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.asarray(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))


def blank(width: int, height: int) -> np.ndarray:
    """A stand-in picture: dark, with the frame's outline and a faint grid."""
    out = np.full((height, width, 3), (42, 33, 30), np.uint8)
    step = max(16, width // 12)
    for x in range(0, width, step):
        cv2.line(out, (x, 0), (x, height), (58, 48, 44), 1)
    for y in range(0, height, step):
        cv2.line(out, (0, y), (width, y), (58, 48, 44), 1)
    cv2.rectangle(out, (0, 0), (width - 1, height - 1), (120, 110, 100), 1)
    return out


def overlay(picture: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The heatmap blended over a picture (BGR), on a copy."""
    out = picture.copy()
    layer = heat_layer(grid)
    if layer is None:
        return out
    h, w = out.shape[:2]
    bgr = cv2.resize(layer[0], (w, h), interpolation=cv2.INTER_LINEAR)
    a = cv2.resize(layer[1], (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    blended = out.astype(np.float32) * (1.0 - a) + bgr.astype(np.float32) * a
    return np.asarray(blended.round().clip(0, 255).astype(np.uint8))


def draw_key(img: np.ndarray, title: str) -> np.ndarray:
    """The key in the bottom-left corner: the title, then "less" [colours] "more"."""
    h, w = img.shape[:2]
    scale = max(0.4, min(0.7, w / 1400))
    (tw, th), _ = cv2.getTextSize(title, FONT, scale, 1)
    (lw, _), _ = cv2.getTextSize("less", FONT, scale, 1)
    (mw, _), _ = cv2.getTextSize("more", FONT, scale, 1)
    bar_w, pad = max(90, w // 6), 8
    box_w = max(tw, lw + bar_w + mw + 12) + 2 * pad
    box_h = 2 * th + 3 * pad + 4
    x0, y0 = 10, h - box_h - 10
    band = img[y0 : y0 + box_h, x0 : x0 + box_w]
    band[:] = (band.astype(np.float32) * 0.25 + np.array([42, 23, 15]) * 0.75).astype(np.uint8)
    cv2.putText(img, title, (x0 + pad, y0 + pad + th), FONT, scale, (250, 250, 248), 1, cv2.LINE_AA)
    y = y0 + 2 * pad + 2 * th + 2
    cv2.putText(img, "less", (x0 + pad, y), FONT, scale, (250, 250, 248), 1, cv2.LINE_AA)
    bx = x0 + pad + lw + 6
    ramp = np.linspace(0, 255, bar_w, dtype=np.uint8).reshape(1, -1)
    bar = cv2.applyColorMap(ramp, cv2.COLORMAP_TURBO)
    img[y - th : y, bx : bx + bar_w] = np.repeat(bar, th, axis=0)
    cv2.putText(img, "more", (bx + bar_w + 6, y), FONT, scale, (250, 250, 248), 1, cv2.LINE_AA)
    return img


def render(
    grid: np.ndarray,
    width: int,
    height: int,
    picture_png: bytes | None,
    title: str,
    scale: float = 2.0,
) -> np.ndarray:
    """The heatmap over the camera's picture (reference view or a stand-in), `scale`
    times the camera's size, with its key: a BGR picture to save as PNG."""
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    picture = background(picture_png, w, h)
    out = overlay(picture if picture is not None else blank(w, h), grid)
    return draw_key(out, title)


def save_png(img: np.ndarray, path: str) -> None:
    """Write a BGR picture as PNG (OSError when it cannot be written)."""
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError(f"{path}: the picture could not be encoded")
    with open(path, "wb") as f:
        f.write(buf.tobytes())


def period_title(first: date, last: date, hours: tuple[int, int] | None = None) -> str:
    """The key's title: "Time spent here, Mon 02 Nov 2026" or "..., 02 Nov - 08 Nov 2026",
    with ", 09:00-12:00" for an hours-of-day filter."""
    if first == last:
        span = f"{first:%a %d %b %Y}"
    elif first.year == last.year:
        span = f"{first:%d %b} - {last:%d %b %Y}"
    else:
        span = f"{first:%d %b %Y} - {last:%d %b %Y}"
    if hours is not None and hours[0] != hours[1]:
        span += f", {hours[0]:02d}:00-{hours[1] % 24:02d}:00"
    return f"Time spent here, {span}"


def parse_hours(text: str) -> tuple[int, int]:
    """An hour range: "9-12" (from 09:00 to 12:00, local) is (9, 12); "22-2" wraps past
    midnight; "0-24" is the whole day, (0, 0) (ValueError when it is not a range)."""
    parts = text.replace(" ", "").split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not an hour range such as 9-12")
    lo, hi = int(parts[0]), int(parts[1])
    if (lo, hi) == (0, 24):
        return 0, 0  # the whole day
    if not (0 <= lo <= 23 and 0 <= hi <= 24) or lo == hi % 24:
        raise ValueError(f"{text!r} is not an hour range such as 9-12 (hours 0 to 24)")
    return lo, hi % 24
