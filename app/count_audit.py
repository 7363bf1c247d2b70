"""The counting audit's pure part: a person's marks of the true crossings against the
counts Vitrine made, matched one-to-one.

A mark and a count match when they are on the same line, in the same direction and at
most `tolerance_s` apart. The matching is optimal: the most pairs possible, and among
those the smallest total time difference (an assignment problem, solved exactly), so
a greedy choice never steals a count that a later mark needed. Accuracy is
matched / (matched + missed + extra): a miss and an extra each cost as much.

The same matcher scores bench/eval_tud.py (ground truth against the pipeline) and the
`audit` command and desktop audit (a person's marks against the pipeline). This module
imports nothing of the app.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

DIRECTIONS: Final = ("in", "out")
TOLERANCE_S: Final = 1.0


@dataclass(frozen=True)
class Crossing:
    """One crossing of a counting line: `t` seconds into the clip (or epoch seconds,
    as long as both sides agree), `ref` whatever the caller needs to find it again
    (a track id, a mark's row)."""

    line: str
    direction: str
    t: float
    ref: int = 0


@dataclass(frozen=True)
class AuditResult:
    """The outcome of matching true crossings (marks) with counted ones."""

    pairs: tuple[tuple[Crossing, Crossing], ...] = ()  # (true, counted)
    missed: tuple[Crossing, ...] = ()  # true crossings no count matched
    extra: tuple[Crossing, ...] = ()  # counts no true crossing matched
    tolerance_s: float = TOLERANCE_S

    @property
    def matched(self) -> int:
        return len(self.pairs)

    @property
    def accuracy(self) -> float:
        """matched / (matched + missed + extra); 1.0 when nothing was marked or counted."""
        total = self.matched + len(self.missed) + len(self.extra)
        return self.matched / total if total else 1.0

    def figures(self) -> dict[str, float | int]:
        return {
            "matched": self.matched,
            "missed": len(self.missed),
            "extra": len(self.extra),
            "accuracy": round(self.accuracy, 4),
        }


@dataclass
class _Group:
    truth: list[Crossing] = field(default_factory=list)
    counted: list[Crossing] = field(default_factory=list)


def match_crossings(
    truth: Iterable[Crossing], counted: Iterable[Crossing], tolerance_s: float = TOLERANCE_S
) -> AuditResult:
    """Optimal one-to-one matching per (line, direction) within `tolerance_s`."""
    from scipy.optimize import linear_sum_assignment

    groups: dict[tuple[str, str], _Group] = {}
    for c in truth:
        groups.setdefault((c.line, c.direction), _Group()).truth.append(c)
    for c in counted:
        groups.setdefault((c.line, c.direction), _Group()).counted.append(c)
    pairs: list[tuple[Crossing, Crossing]] = []
    missed: list[Crossing] = []
    extra: list[Crossing] = []
    for g in groups.values():
        t_sorted = sorted(g.truth, key=lambda c: c.t)
        c_sorted = sorted(g.counted, key=lambda c: c.t)
        used_t: set[int] = set()
        used_c: set[int] = set()
        if t_sorted and c_sorted:
            tt = np.array([c.t for c in t_sorted])[:, None]
            ct = np.array([c.t for c in c_sorted])[None, :]
            dt = np.abs(tt - ct)
            ok = dt <= tolerance_s + 1e-9
            # an infeasible pair costs more than every feasible pair together: the
            # assignment first maximises the pairs, then minimises their time difference
            big = 1.0 + float(dt[ok].sum()) if ok.any() else 1.0
            cost = np.where(ok, dt, big * (len(t_sorted) + len(c_sorted)))
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                if ok[r, c]:
                    pairs.append((t_sorted[r], c_sorted[c]))
                    used_t.add(r)
                    used_c.add(c)
        missed += [c for i, c in enumerate(t_sorted) if i not in used_t]
        extra += [c for i, c in enumerate(c_sorted) if i not in used_c]
    pairs.sort(key=lambda p: p[0].t)
    missed.sort(key=lambda c: c.t)
    extra.sort(key=lambda c: c.t)
    return AuditResult(tuple(pairs), tuple(missed), tuple(extra), tolerance_s)


class MarksError(ValueError):
    """A marks file that cannot be read; the message names the row."""


def parse_marks(text: str, line: str) -> list[Crossing]:
    """`t,direction` rows (seconds into the clip, in/out) as crossings of `line`. A
    header row (`t,direction`), blank lines and `#` comments are skipped. Any other
    malformed row raises MarksError naming its row number (1-based): nothing partial.
    A spreadsheet's `t;direction` export (semicolons, decimal comma: `12,5;in`) is read
    too."""
    marks: list[Crossing] = []
    semicolon = _semicolon_separated(text)
    reader = csv.reader(io.StringIO(text), delimiter=";" if semicolon else ",")
    for n, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if semicolon and cells:
            cells[0] = cells[0].replace(",", ".", 1)
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if n == 1 and cells[0].lower() in ("t", "time", "seconds") and len(cells) >= 2:
            continue
        if len(cells) != 2:
            raise MarksError(
                f"row {n}: expected 2 values 't,direction', got {len(cells)}: {','.join(row)!r}"
            )
        try:
            t = float(cells[0])
        except ValueError:
            raise MarksError(f"row {n}: time {cells[0]!r} is not a number of seconds") from None
        if not math.isfinite(t) or t < 0:
            raise MarksError(f"row {n}: time {cells[0]!r} must be 0 or more seconds")
        d = cells[1].lower()
        if d not in DIRECTIONS:
            raise MarksError(f"row {n}: direction {cells[1]!r} must be 'in' or 'out'")
        marks.append(Crossing(line, d, t, n))
    return marks


def _semicolon_separated(text: str) -> bool:
    """Whether the first data-bearing row is `;`-separated (and has no comma outside
    a decimal time, as a spreadsheet in a decimal-comma locale writes it)."""
    for raw in text.splitlines():
        row = raw.strip()
        if row and not row.startswith("#"):
            return ";" in row and row.count(",") <= 1 and "," not in row.split(";", 1)[-1]
    return False


def format_marks(marks: Sequence[Crossing]) -> str:
    """Marks as the CSV `parse_marks` reads (with its header)."""
    rows = ["t,direction"] + [f"{m.t:.3f},{m.direction}" for m in sorted(marks, key=lambda m: m.t)]
    return "\n".join(rows) + "\n"
