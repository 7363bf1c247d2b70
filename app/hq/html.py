"""Server-rendered HTML for the HQ dashboard: escaping, the page layout, tables, forms
and an inline SVG line chart with promotion bands. Every value goes through esc();
nothing loads from outside HQ (one CSS and one JS file under /hq/static/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Any

from app.hq.users import Session


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def signed_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} %"


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ")


NAV = (
    ("/hq/stores", "Stores", None),
    ("/hq/kpis", "KPIs", None),
    ("/hq/promotions", "Promotions", None),
    ("/hq/users", "Users", "admin"),
)


def page(title: str, body: str, session: Session | None, *, active: str = "") -> str:
    links = ""
    if session is not None:
        items = [
            f'<a href="{href}"{" class=active" if href == active else ""}>{esc(label)}</a>'
            for href, label, role in NAV
            if role is None or session.user.role == role
        ]
        who = session.user.username + (
            f" · {session.user.region}" if session.user.role == "regional" else ""
        )
        links = (
            f"<nav>{''.join(items)}<span class=who>{esc(who)} ({esc(session.user.role)})</span>"
            f'<form method=post action="/hq/logout" class=inline>{csrf_field(session)}'
            "<button>Log out</button></form></nav>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(title)} · Vitrine HQ</title>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel=stylesheet href="/hq/static/hq.css">'
        '<script src="/hq/static/hq.js" defer></script></head><body>'
        f"<header><b>Vitrine HQ</b>{links}</header><main><h1>{esc(title)}</h1>{body}</main>"
        "</body></html>"
    )


def csrf_field(session: Session) -> str:
    return f'<input type=hidden name=csrf value="{esc(session.csrf)}">'


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """Cells are already HTML (escape them with esc())."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def error_box(message: str | None) -> str:
    return f"<p class=error role=alert>{esc(message)}</p>" if message else ""


def notice_box(message: str | None) -> str:
    return f"<p class=notice role=status>{esc(message)}</p>" if message else ""


def field(name: str, label: str, value: Any = "", kind: str = "text", **attrs: str) -> str:
    extra = "".join(f' {k}="{esc(v)}"' for k, v in attrs.items())
    return (
        f'<label>{esc(label)} <input type={kind} name="{esc(name)}" '
        f'value="{esc(value)}"{extra}></label>'
    )


def line_chart(
    series: Sequence[tuple[date, float]],
    bands: Sequence[tuple[date, date, str]] = (),
    width: int = 860,
    height: int = 220,
) -> str:
    """An inline SVG line of daily values with shaded, labelled promotion/event bands."""
    if not series:
        return "<p class=muted>No data for this period.</p>"
    pad_l, pad_b, pad_t = 56, 24, 18
    first, last = series[0][0], series[-1][0]
    span = max((last - first).days, 1)
    top = max(v for _, v in series) or 1.0
    w, h = width - pad_l - 8, height - pad_b - pad_t

    def x(d: date) -> float:
        return pad_l + w * (d - first).days / span

    def y(v: float) -> float:
        return pad_t + h - h * v / top

    parts = [
        f'<svg class=chart viewBox="0 0 {width} {height}" role=img '
        f'aria-label="visitors per day" xmlns="http://www.w3.org/2000/svg">'
    ]
    for a, b, label in bands:
        x0, x1 = x(max(a, first)), x(min(b, last))
        if x1 < x0:
            continue
        parts.append(
            f'<rect class=band x="{x0:.1f}" y="{pad_t}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{h}" fill="#f4c542" fill-opacity="0.25"><title>{esc(label)}</title></rect>'
            f'<text x="{x0 + 2:.1f}" y="{pad_t - 4}" font-size="11" fill="#8a6d00">'
            f"{esc(label[:30])}</text>"
        )
    for frac in (0.0, 0.5, 1.0):
        yy = y(top * frac)
        parts.append(
            f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>'
            f'<text x="{pad_l - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{num(top * frac)}</text>'
        )
    pts = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in series)
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    for d in (first, last):
        anchor = "start" if d == first else "end"
        parts.append(
            f'<text x="{x(d):.1f}" y="{height - 6}" font-size="11" text-anchor="{anchor}" '
            f'fill="#555">{d.isoformat()}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def period_form(a: date, b: date, extra: str = "") -> str:
    """The From/To filter of a page that shows a period."""
    return (
        f"<form method=get class=filters>{field('from', 'From', a, 'date')}"
        f"{field('to', 'To', b, 'date')}{extra}<button>Show</button></form>"
    )
