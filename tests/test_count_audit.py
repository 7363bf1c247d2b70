"""The counting audit's matcher and marks reader (app/count_audit.py): case tables."""

from __future__ import annotations

import pytest

from app.count_audit import Crossing, MarksError, format_marks, match_crossings, parse_marks


def C(t: float, d: str = "in", line: str = "door") -> Crossing:
    return Crossing(line, d, t)


@pytest.mark.parametrize(
    ("truth", "counted", "figures"),
    [
        ([], [], (0, 0, 0)),
        ([C(1.0)], [C(1.4)], (1, 0, 0)),
        ([C(1.0)], [C(2.0)], (1, 0, 0)),  # exactly the tolerance still matches
        ([C(1.0)], [C(2.1)], (0, 1, 1)),
        ([C(1.0)], [C(1.2, "out")], (0, 1, 1)),  # direction must agree
        ([C(1.0)], [C(1.2, line="other")], (0, 1, 1)),  # so must the line
        ([C(1.0), C(1.1)], [C(1.05)], (1, 1, 0)),  # one-to-one
        ([C(1.0)], [C(0.9), C(1.1)], (1, 0, 1)),
        # greedy nearest-first would give the 1.9 count to the mark at 2.0 and leave the
        # mark at 1.0 unmatched; the optimal matching pairs both
        ([C(1.0), C(2.0)], [C(1.9), C(2.9)], (2, 0, 0)),
        ([C(0.5), C(1.5), C(2.5)], [C(1.4), C(2.4), C(3.4)], (3, 0, 0)),
    ],
)
def test_match_crossings(
    truth: list[Crossing], counted: list[Crossing], figures: tuple[int, int, int]
) -> None:
    r = match_crossings(truth, counted, 1.0)
    assert (r.matched, len(r.missed), len(r.extra)) == figures
    total = sum(figures)
    assert r.accuracy == pytest.approx(figures[0] / total if total else 1.0)


def test_matching_prefers_the_closest_pairs_among_the_largest_matchings() -> None:
    r = match_crossings([C(1.0), C(1.5)], [C(1.45), C(1.0)], 1.0)
    assert sorted((p[0].t, p[1].t) for p in r.pairs) == [(1.0, 1.0), (1.5, 1.45)]


def test_misses_and_extras_carry_their_times() -> None:
    r = match_crossings([C(1.0), C(5.0, "out")], [C(1.2), C(9.0)], 1.0)
    assert [(c.t, c.direction) for c in r.missed] == [(5.0, "out")]
    assert [(c.t, c.direction) for c in r.extra] == [(9.0, "in")]
    assert r.figures() == {"matched": 1, "missed": 1, "extra": 1, "accuracy": 0.3333}


def test_parse_marks_reads_rows_skips_header_comments_blanks() -> None:
    text = "t,direction\n1.5,in\n\n# a comment\n 2 , OUT \n"
    marks = parse_marks(text, "door")
    assert [(m.t, m.direction, m.line, m.ref) for m in marks] == [
        (1.5, "in", "door", 2),
        (2.0, "out", "door", 5),
    ]
    assert parse_marks(format_marks(marks), "door") == [
        Crossing("door", "in", 1.5, 2),
        Crossing("door", "out", 2.0, 3),
    ]


def test_parse_marks_reads_a_spreadsheets_semicolon_export() -> None:
    """A spreadsheet in a decimal-comma locale saves `t;direction` and `12,5;in`."""
    text = "t;direction\r\n1,5;in\r\n2;Out\r\n"
    assert [(m.t, m.direction, m.ref) for m in parse_marks(text, "door")] == [
        (1.5, "in", 2),
        (2.0, "out", 3),
    ]
    with pytest.raises(MarksError, match="row 2: direction 'up'"):
        parse_marks("1,5;in\n2;up\n", "door")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.0,in\n2.0,sideways\n", "row 2: direction 'sideways'"),
        ("1.0,in\nabc,out\n", "row 2: time 'abc' is not a number"),
        ("1.0\n", "row 1: expected 2 values"),
        ("t,direction\n1,in,extra\n", "row 2: expected 2 values"),
        ("-1,in\n", "row 1: time '-1' must be 0 or more"),
        ("nan,in\n", "row 1: time 'nan' must be 0 or more"),
    ],
)
def test_parse_marks_rejects_malformed_rows_by_number(text: str, message: str) -> None:
    with pytest.raises(MarksError, match=message):
        parse_marks(text, "door")
