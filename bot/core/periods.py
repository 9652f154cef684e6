"""Leaderboard periods in UTC: today, this ISO week, this month, all time."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class Period(StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"

    @property
    def label(self) -> str:
        return {"today": "Today", "week": "This week", "month": "This month",
                "all": "All time"}[self.value]


def period_key(period: Period, now: float) -> str:
    """The stored key of the period that contains `now`."""
    moment = datetime.fromtimestamp(now, UTC)
    match period:
        case Period.TODAY:
            return moment.strftime("d%Y-%m-%d")
        case Period.WEEK:
            year, week, _ = moment.isocalendar()
            return f"w{year}-{week:02d}"
        case Period.MONTH:
            return moment.strftime("m%Y-%m")
    return "all"


def period_keys(now: float) -> list[str]:
    """Every period an answer at `now` counts towards."""
    return [period_key(p, now) for p in Period]
