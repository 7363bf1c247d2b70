"""The base of every settings model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationInfo

from app.polygons import Point, polygon_problem


class Strict(BaseModel):
    """Base of every settings model: unknown fields are refused, and so are infinity and NaN
    (`1e309` in JSON, `inf` or `nan` in TOML) in every float field, coordinates included."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def simple_polygon(polygon: list[Point], info: ValidationInfo, what: str) -> list[Point]:
    """A field validator's body: the polygon, or ValueError naming the `what` (a zone,
    an ignore mask) by its name when the model has one."""
    problem = polygon_problem(polygon)
    if problem:
        name = info.data.get("name")
        raise ValueError(f"{what} {name!r}: {problem}" if name else problem)
    return polygon
