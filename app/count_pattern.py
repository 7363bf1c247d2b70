"""Do today's counts fall far from the camera's usual pattern? A pure rule.

Today's entries up to the current hour are compared with the entries up to the same
hour on the same weekday of the previous weeks: robust z-score = (today - median) /
(1.4826 * MAD), the MAD floored so that a very regular history does not make every
small wobble an anomaly (a Poisson-like floor: sqrt(median), and at least 1). A camera
that was moved, blocked or whose line no longer sits across the door counts far
fewer (or far more) people than on the same weekdays before.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_Z = 4.0  # |robust z| above this is off the pattern
MIN_WEEKS = 3  # weeks of history needed before judging
MIN_EXPECTED = 20  # fewer usual entries by this hour: too few to judge


@dataclass(frozen=True)
class PatternCheck:
    today: int
    expected: float  # the median of the previous same weekdays up to the same hour
    z: float
    weeks: int

    @property
    def judged(self) -> bool:
        return self.weeks >= MIN_WEEKS and self.expected >= MIN_EXPECTED


def up_to(by_hour: Mapping[int, int], hour: int) -> int:
    """Entries from midnight to the end of `hour` (0..23)."""
    return sum(n for h, n in by_hour.items() if h <= hour)


def robust_z(value: float, history: Sequence[float]) -> float:
    med = statistics.median(history)
    mad = statistics.median(abs(x - med) for x in history)
    scale = max(1.4826 * mad, math.sqrt(max(med, 0.0)), 1.0)
    return (value - med) / scale


def check_pattern(
    today: Mapping[int, int], previous: Sequence[Mapping[int, int]], hour: int
) -> PatternCheck:
    """Today's entries by hour against the same weekday's of previous weeks (each a
    mapping hour -> entries; a week without data is left out by the caller)."""
    now = up_to(today, hour)
    hist = [float(up_to(w, hour)) for w in previous]
    if not hist:
        return PatternCheck(now, 0.0, 0.0, 0)
    return PatternCheck(now, statistics.median(hist), robust_z(now, hist), len(hist))


def off_pattern(check: PatternCheck, max_z: float = MAX_Z) -> bool | None:
    """True: far off the usual pattern; False: within it; None: not enough to judge."""
    if not check.judged:
        return None
    return abs(check.z) > max_z
