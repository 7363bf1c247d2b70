"""Pure decisions of face recognition: enrolment templates, matching (opt-out list
first), and a track's identity as a weighted vote over its attempts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Kind = Literal["optout", "staff", "visitor"]


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12)


def robust_mean(embeddings: np.ndarray, min_agreement: float = 0.3) -> tuple[np.ndarray, list[int]]:
    """A template from several embeddings of one person: the mean direction, with the
    outliers (a wrong face, a bad photo) dropped. Returns (template, kept indices).

    An embedding is an outlier when its similarity to the mean of the others is below
    `min_agreement` or far (3 MADs) below the median of those similarities."""
    e = unit(np.asarray(embeddings, np.float32).reshape(len(embeddings), -1))
    if len(e) == 0:
        raise ValueError("no face to enrol")
    if len(e) <= 2:
        keep = list(range(len(e)))
        if len(e) == 2 and float(e[0] @ e[1]) < min_agreement:
            raise ValueError("the two photos do not look like the same person")
        return unit(e.mean(0)), keep
    total = e.sum(0)
    sims = np.array([float(unit(total - e[i]) @ e[i]) for i in range(len(e))])
    med = float(np.median(sims))
    mad = float(np.median(np.abs(sims - med))) or 0.02
    keep = [i for i, s in enumerate(sims) if s >= min_agreement and s >= med - 3 * mad]
    if not keep:
        raise ValueError("the photos do not agree on one person")
    return unit(e[keep].mean(0)), keep


@dataclass(frozen=True)
class Gallery:
    """The templates one match is made against (unit rows), with their keys."""

    optout: np.ndarray = field(default_factory=lambda: np.zeros((0, 128), np.float32))
    staff: np.ndarray = field(default_factory=lambda: np.zeros((0, 128), np.float32))
    staff_keys: tuple[str, ...] = ()
    visitors: np.ndarray = field(default_factory=lambda: np.zeros((0, 128), np.float32))
    visitor_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    kind: Kind | None  # None: nobody known
    key: str = ""
    similarity: float = 0.0


def _best(emb: np.ndarray, rows: np.ndarray) -> tuple[int, float]:
    if len(rows) == 0:
        return -1, -1.0
    sims = rows @ emb
    i = int(np.argmax(sims))
    return i, float(sims[i])


def match(emb: np.ndarray, g: Gallery, threshold: float, *, visitors: bool) -> Match:
    """Who a face is. The opt-out list is checked before anything else: a face that
    matches it is 'optout' whatever else it would match. Then staff, then (repeat
    visitors mode only) the visitor templates."""
    _, s = _best(emb, g.optout)
    if s >= threshold:
        return Match("optout", "", s)
    i, s = _best(emb, g.staff)
    if s >= threshold:
        return Match("staff", g.staff_keys[i], s)
    if visitors:
        i, s = _best(emb, g.visitors)
        if s >= threshold:
            return Match("visitor", g.visitor_keys[i], s)
    return Match(None, "", max(s, 0.0))


@dataclass
class Vote:
    """A track's identity so far: vote weights per (kind, key) and per unknown face."""

    weights: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    attempts: int = 0

    def add(self, m: Match, weight: float) -> None:
        self.attempts += 1
        self.weights[(m.kind or "unknown", m.key)] += weight

    def leader(self) -> tuple[str, str, float]:
        """(kind, key, share of the total weight) of the heaviest label."""
        if not self.weights:
            return "unknown", "", 0.0
        (kind, key), w = max(self.weights.items(), key=lambda kv: kv[1])
        total = sum(self.weights.values())
        return kind, key, (w / total if total > 0 else 0.0)


def decide(vote: Vote, min_weight: float = 0.5, min_share: float = 0.5) -> tuple[str, str]:
    """A track's label from its vote: ('staff', name), ('visitor', key), ('optout', ''),
    or ('unknown', '') while no label has `min_weight` and a `min_share` majority."""
    kind, key, share = vote.leader()
    if kind == "unknown" or share < min_share:
        return "unknown", ""
    if vote.weights[(kind, key)] < min_weight:
        return "unknown", ""
    return kind, key
