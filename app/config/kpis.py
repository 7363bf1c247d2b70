"""The KPI settings of a store (app/kpis.py defines the KPIs; README "Store analytics")."""

from __future__ import annotations

from pydantic import Field, model_validator

from app.config.base import Strict


class StaffShift(Strict):
    """A manager-entered schedule line: so many salespeople on duty on a weekday between
    two local hours (end excluded)."""

    weekday: int = Field(..., ge=0, le=6, description="0 = Monday ... 6 = Sunday.")
    start_hour: int = Field(..., ge=0, le=23, description="First local hour of the shift.")
    end_hour: int = Field(..., ge=1, le=24, description="Local hour the shift ends (excluded).")
    staff: int = Field(..., ge=0, le=500, description="Salespeople on duty.")

    @model_validator(mode="after")
    def _ordered(self) -> StaffShift:
        if self.end_hour <= self.start_hour:
            raise ValueError("a shift ends after it starts (end_hour > start_hour)")
        return self


class KpiSettings(Strict):
    capacity: int | None = Field(
        None, ge=1, le=100000,
        description="People the store holds at once: congestion and utilisation divide by it.",
    )  # fmt: skip
    visitors_per_salesperson: float | None = Field(
        None, gt=0, le=10000,
        description="Visitors per hour one salesperson can look after: the staffing target "
        "(required staff = ceil(visitors / this)).",
    )  # fmt: skip
    wait_target_s: float = Field(
        180.0, gt=0, le=7200,
        description="Queue wait (seconds) at which the bottleneck score's queue part is full.",
    )  # fmt: skip
    queue_service: dict[str, str] = Field(
        default_factory=dict,
        description="Queue area -> the zone it serves (the till, the counter): a person who "
        "leaves the queue area without reaching it abandoned the queue.",
    )
    schedule: list[StaffShift] = Field(
        default_factory=list,
        description="Salespeople on duty per weekday and hour; empty: counted from the "
        "tablets' service sessions.",
    )
    weekly_report: bool = Field(
        True, description="Write the weekly report into the data folder every Monday."
    )

    def scheduled(self, weekday: int, hour: int) -> int | None:
        """Salespeople the schedule puts on duty then (None without a schedule)."""
        if not self.schedule:
            return None
        return sum(
            s.staff
            for s in self.schedule
            if s.weekday == weekday and s.start_hour <= hour < s.end_hour
        )
