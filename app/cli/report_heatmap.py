"""`python main.py report heatmap --camera NAME --from D --to D --out heat.png`: a
camera's heatmap history summed over local days D..D (optionally `--hours 9-12`),
drawn over the camera's reference view (the drift check's median background) as a PNG.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from app.cli.main import parse_day
from app.errors import CliError
from app.words import plural


def add_parser(sub: Any) -> None:
    h = sub.add_parser("heatmap", help="a camera's heatmap over a period, as a PNG")
    h.add_argument("--camera", help="the camera (default: the only one with a heatmap)")
    h.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (default: 7 days ago)")
    h.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: today)")
    h.add_argument("--hours", help="only these hours of the day, e.g. 9-12 (store time)")
    h.add_argument("--out", required=True, help="the PNG file to write")


def day_bounds(first: dt.date, last: dt.date, tz: ZoneInfo) -> tuple[float, float]:
    """Local days first..last as [start, end) epoch seconds."""
    start = dt.datetime.combine(first, dt.time.min, tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tz)
    return start.timestamp(), end.timestamp()


def run_heatmap(store: Any, cfg: Any, args: argparse.Namespace) -> int:
    from app.store.count_audits import get_reference
    from app.store.heat_history import heat_cameras, heat_sum
    from app.vision import heat_render

    try:
        tz = ZoneInfo(cfg.store.timezone)
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    today = dt.datetime.now(tz).date()
    last = parse_day(args.date_to, today)
    first = parse_day(args.date_from, last - dt.timedelta(days=6))
    if last < first:
        raise CliError("--to is before --from")
    try:
        hours = heat_render.parse_hours(args.hours) if args.hours else None
    except ValueError as exc:
        raise CliError(f"--hours {exc}") from None
    with store.read_session() as s:
        known = heat_cameras(s)
        camera = args.camera or (known[0] if len(known) == 1 else None)
        if camera is None:
            listed = ", ".join(known) if known else "none yet"
            raise CliError(f"which camera? give --camera (cameras with a heatmap: {listed})")
        start, end = day_bounds(first, last, tz)
        total = heat_sum(s, camera, start, end, hours, tz)
        ref = get_reference(s, camera)
    if total is None:
        others = f" (cameras with a heatmap: {', '.join(known)})" if camera not in known else ""
        raise CliError(f"no heatmap of {camera} from {first} to {last}{others}: nothing written")
    title = heat_render.period_title(first, last, hours)
    img = heat_render.render(total.grid, total.width, total.height, ref[1] if ref else None, title)
    try:
        heat_render.save_png(img, args.out)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    picture = "over the camera's reference view" if ref else "(no picture of the camera yet)"
    print(
        f"heatmap of {camera}, {first} to {last}: {plural(total.hours, 'hour')} with people, "
        f"{total.seconds / 3600:.1f} person-hours of presence, {picture}, written to {args.out}"
    )
    if total.left_out:
        print(f"note: {plural(total.left_out, 'hour')} recorded at another picture size are left out")
    return 0
