"""The settings of things that are not people: ignore masks (per camera) and the
stationary rule (docs/not-people.md)."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from app.config.base import Strict, simple_polygon
from app.polygons import Point


class IgnoreMask(Strict):
    """An area of a camera's picture where nobody is counted: a sign, a mannequin, a
    poster, a screen. A detection is dropped before tracking when its foot point, or most
    of its box, lies inside."""

    name: str = Field("Mask", min_length=1, max_length=80, description="Name in the editor.")
    polygon: list[Point] = Field(
        ..., min_length=3, max_length=64, description="Vertices in image pixels."
    )

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, polygon: list[Point], info: ValidationInfo) -> list[Point]:
        return simple_polygon(polygon, info, "ignore mask")


class StationaryConfig(Strict):
    after_s: float = Field(
        600.0,
        ge=0,
        le=86400,
        description="A track that has not moved for this long is flagged stationary (a "
        "sign, a mannequin) and left out of counts, occupancy, dwell and heatmaps until "
        "it moves (0: off). Long enough that a customer at a shelf is never left out.",
    )
    move_frac: float = Field(
        0.2,
        gt=0,
        le=2,
        description="Movement, in box heights (of the foot point or of the height), "
        "that counts as moving; smaller changes are detector jitter.",
    )
