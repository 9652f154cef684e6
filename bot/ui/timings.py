"""When the study rhythm's runs fall: the jobs schedules share, and the runs due or missed.

Plain time arithmetic over the wall-clock triggers; the Rhythm (bot/ui/rhythm.py) acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.core.schedules import DAYS
from bot.core.wallclock import WallClockTrigger
from bot.core.zones import stored_zone
from bot.store.records import GuildSettings, Schedule


@dataclass
class Group:
    """The running schedules that share one timing, and so one APScheduler job."""

    trigger: WallClockTrigger
    ids: set[int]


def timing_job(schedule: Schedule) -> str:
    return f"timing:{schedule.timezone}|{schedule.days}|{schedule.time_of_day or 'cron'}"


def weekly_job(guild_id: int) -> str:
    return f"weekly:{guild_id}"


def weekly_trigger(settings: GuildSettings) -> WallClockTrigger:
    hour, minute = (int(part) for part in (settings.weekly_time or "00:00").split(":"))
    cron = CronTrigger(day_of_week=DAYS[settings.weekly_day or 0], hour=hour, minute=minute,
                       timezone=UTC)
    return WallClockTrigger(cron, stored_zone(settings.timezone))


def due_run(trigger: WallClockTrigger, now: float, grace: timedelta) -> int | None:
    """The latest run at or before `now`, if it is at most `grace` old (a minute at least:
    APScheduler may call a moment late)."""
    window = max(grace, timedelta(minutes=1))
    until = datetime.fromtimestamp(now, UTC)
    runs = trigger.runs_between(until - window, until)
    return int(runs[-1].timestamp()) if runs else None


def missed_runs(trigger: WallClockTrigger, since: float, now: float) -> list[int]:
    """Runs in (since, now], oldest first, as UNIX seconds."""
    runs = trigger.runs_between(datetime.fromtimestamp(since, UTC),
                                datetime.fromtimestamp(now, UTC))
    return [int(run.timestamp()) for run in runs]
