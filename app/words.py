"""Words for people: one plural rule for every count the app shows ("1 day", "2 days")."""

from __future__ import annotations

_IRREGULAR = {"person": "people", "entry": "entries", "category": "categories"}


def plural(n: int | float, noun: str, many: str | None = None) -> str:
    """'1 row', '0 rows', '2 rows'; `many` for a plural that is not noun + 's' (the last
    word of `noun` is the one made plural: '1 valid row', '3 valid rows')."""
    shown = f"{n:,}" if isinstance(n, int) else f"{n:g}"
    if n == 1:
        return f"{shown} {noun}"
    if many is None:
        head, _, last = noun.rpartition(" ")
        ending = "es" if last.endswith(("s", "x", "ch", "sh")) else "s"
        word = _IRREGULAR.get(last) or last + ending
        many = f"{head} {word}" if head else word
    return f"{shown} {many}"
