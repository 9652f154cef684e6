"""Leaderboard periods in a server's own time zone: today, this ISO week, this month, all time.

A period key is computed when an answer is stored, in the zone the server has then; a server
that changes its zone keeps its old keys, so the change takes effect from the next period on.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
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


def period_key(period: Period, now: float, zone: tzinfo = UTC) -> str:
    """The stored key of the period that contains `now`, as the clocks of `zone` show it."""
    moment = datetime.fromtimestamp(now, zone)
    match period:
        case Period.TODAY:
            return moment.strftime("d%Y-%m-%d")
        case Period.WEEK:
            year, week, _ = moment.isocalendar()
            return f"w{year}-{week:02d}"
        case Period.MONTH:
            return moment.strftime("m%Y-%m")
    return "all"


def period_keys(now: float, zone: tzinfo = UTC) -> list[str]:
    """Every period an answer at `now` counts towards."""
    return [period_key(p, now, zone) for p in Period]
