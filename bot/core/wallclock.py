"""When a schedule runs: its days and time read on the server's wall clock, then placed on
the timeline by one rule at daylight-saving changes. Knows no Discord.

The rule: a schedule is evaluated on the local wall clock, which has no gaps or repeats, and
each wall time is then placed on the timeline as Python's zoneinfo places it with fold=0:
- a time that does not exist on a spring-forward day (02:30 in Berlin on the last Sunday of
  March) runs at the offset from before the change, that is one hour later (03:30);
- a time that happens twice on a fall-back day (02:30 on the last Sunday of October) runs
  once, at its first occurrence;
- every other time runs at exactly that local time, on both sides of a change.

APScheduler's own CronTrigger, given a zone, fires twice at a repeated time (checked with
3.11); so its cron matching runs here on the DST-free wall clock, and this class places the
result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

# No zone moves its clocks by more than this at once (Troll station: 2 hours).
MAX_SHIFT = timedelta(hours=3)
TICK = timedelta(microseconds=1)


def place(wall: datetime, zone: tzinfo) -> datetime:
    """The instant of a local wall time (given as a UTC-labelled datetime), by the rule."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def wall_clock(instant: datetime, zone: tzinfo) -> datetime:
    """The local wall time of an instant, labelled UTC so that cron fields match it."""
    return instant.astimezone(zone).replace(tzinfo=UTC, fold=0)


class WallClockTrigger(BaseTrigger):
    """An APScheduler trigger: `cron` (built with timezone=UTC) read on `zone`'s wall clock."""

    __slots__ = ("cron", "zone")

    def __init__(self, cron: CronTrigger, zone: tzinfo) -> None:
        self.cron = cron
        self.zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        """The first run at or after `now`; after a run, the first one after it, even if that
        is already past (APScheduler asks so to count runs it missed)."""
        start = now if previous_fire_time is None else previous_fire_time + TICK
        return self.first_at_or_after(start)

    def first_at_or_after(self, start: datetime) -> datetime | None:
        quick = self._first_without_a_change(start)
        if quick is not None:
            return quick
        best: datetime | None = None
        best_wall: datetime | None = None
        # Wall times up to MAX_SHIFT before start's own can land after it (a gap pushes them
        # forward), and placing is not monotonic inside a gap: look a little around.
        for wall in self._walls_from(wall_clock(start, self.zone) - MAX_SHIFT):
            if best_wall is not None and wall > best_wall + MAX_SHIFT:
                break
            instant = place(wall, self.zone)
            if instant >= start and (best is None or instant < best):
                best, best_wall = instant, wall
        # In UTC: an aware datetime inside a repeated local hour never compares equal to
        # another zone's (PEP 495), which would confuse every comparison downstream.
        return best

    def _first_without_a_change(self, start: datetime) -> datetime | None:
        """The common case, in one cron step: no change of offset near start or the run."""
        wall = self.cron.get_next_fire_time(None, wall_clock(start, self.zone))
        if wall is None:
            return None
        instant = place(wall, self.zone)
        offset = start.astimezone(self.zone).utcoffset()
        for moment in (start - MAX_SHIFT, instant + MAX_SHIFT):
            if moment.astimezone(self.zone).utcoffset() != offset:
                return None  # a change nearby: look around carefully
        return instant if instant >= start else None

    def runs_between(self, after: datetime, until: datetime) -> list[datetime]:
        """Every run in (after, until], in order."""
        runs = []
        run = self.first_at_or_after(after + TICK)
        while run is not None and run <= until:
            runs.append(run)
            run = self.first_at_or_after(run + TICK)
        return runs

    def _walls_from(self, wall: datetime) -> Iterator[datetime]:
        match = self.cron.get_next_fire_time(None, wall)
        while match is not None:
            yield match
            match = self.cron.get_next_fire_time(match, match + TICK)

    def __str__(self) -> str:
        return f"wallclock[{self.cron}, {self.zone}]"
