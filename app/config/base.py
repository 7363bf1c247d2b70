"""The base of every settings model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of every settings model: unknown fields are refused, and so are infinity and NaN
    (`1e309` in JSON, `inf` or `nan` in TOML) in every float field, coordinates included."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
