"""Scheduled challenges: reading what an admin typed, describing it back, and the use cases
of /schedule. Knows no Discord."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from apscheduler.triggers.cron import CronTrigger

from bot.bank import Bank
from bot.core.clock_time import parse_hhmm
from bot.core.errors import NoMatchingProblem, PackDisabled, UnknownPack
from bot.core.wallclock import WallClockTrigger
from bot.core.zones import UnknownZone, canonical_zone, zone
from bot.store import Store
from bot.store.records import NewSchedule, Schedule

MAX_PER_SERVER = 10
MIN_SPACING = timedelta(hours=1)  # a challenge a minute would be spam, not a study rhythm
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NAMED_DAY_SETS = {"every day": "mon-sun", "weekdays": "mon-fri", "weekends": "sat,sun"}
DAY_SET_ALIASES = {"everyday": "every day", "daily": "every day", "all": "every day",
                   "weekday": "weekdays", "weekend": "weekends"}
CRON_FIELD = re.compile(r"^[0-9a-z*/,-]+$")


class ScheduleRefused(ValueError):
    """What an admin typed can't be a schedule; the message says why and is plain text."""


class ScheduleNotFound(LookupError):
    def __init__(self, schedule_id: int) -> None:
        super().__init__(f"no schedule #{schedule_id} in this server")
        self.schedule_id = schedule_id


@dataclass(frozen=True)
class When:
    """A schedule's timing: what to store, and the cron fields it runs on (wall clock)."""

    time_of_day: str | None  # "HH:MM"; None for a cron expression
    days: str  # "every day", "weekdays", "weekends", "mon,wed,fri", or the cron expression
    cron: CronTrigger


def parse_days(text: str) -> str:
    """The canonical form of a day set: 'every day', 'weekdays', 'weekends' or 'mon,wed,fri'
    (names or their first three letters; 'mon-fri' ranges too)."""
    typed = " ".join(text.lower().replace("_", " ").split())
    typed = DAY_SET_ALIASES.get(typed, typed)
    if typed in NAMED_DAY_SETS:
        return typed
    chosen: set[str] = set()
    for token in filter(None, re.split(r"[,\s]+", typed)):
        first, _, last = token.partition("-")
        low, high = _day_index(first), _day_index(last or first)
        chosen.update(DAYS[low:high + 1] if low <= high else DAYS[low:] + DAYS[:high + 1])
    if len(chosen) == len(DAYS):
        return "every day"
    return ",".join(d for d in DAYS if d in chosen)


def _day_index(token: str) -> int:
    if len(token) >= 3:
        for index, full in enumerate(FULL_DAY_NAMES):
            if full.startswith(token):
                return index
    raise ScheduleRefused(
        f"I don't know the day '{token[:20]}'. Use every day, weekdays, weekends, a list like "
        "mon,wed,fri, or a 5-field cron expression.")


def looks_like_cron(text: str) -> bool:
    fields = text.split()
    return len(fields) == 5 and all(CRON_FIELD.match(f.lower()) for f in fields)


def parse_when(time_text: str | None, days_text: str | None) -> When:
    """Reads the `time` and `days` options; raises ScheduleRefused with what to type instead."""
    when = read_when(time_text, days_text)
    if when.time_of_day is None:
        check_spacing(when.cron)
    return when


@lru_cache(maxsize=4096)
def read_when(time_text: str | None, days_text: str | None) -> When:
    """parse_when less the spacing rule, which a stored row passed when it was added: checking
    it walks 200 runs, and start-up reads thousands of rows. Cached, as a When is immutable
    and servers in many zones type the same few times."""
    days_text = (days_text or "every day").strip()
    if looks_like_cron(days_text):
        if time_text:
            raise ScheduleRefused("A cron expression carries its own time: leave `time` out.")
        expression = " ".join(days_text.lower().split())
        return When(None, expression, cron_trigger(expression))
    if not time_text:
        raise ScheduleRefused("Say when: `time` as HH:MM in 24 hours, like 09:00 or 18:30.")
    try:
        hour, minute = parse_hhmm(time_text)
    except ValueError as exc:
        raise ScheduleRefused(str(exc)) from None
    days = parse_days(days_text)
    day_of_week = NAMED_DAY_SETS.get(days, days)
    cron = CronTrigger(minute=minute, hour=hour, day_of_week=day_of_week, timezone=UTC)
    return When(f"{hour:02d}:{minute:02d}", days, cron)


def cron_trigger(expression: str) -> CronTrigger:
    """A standard 5-field crontab, read as cron reads it (0 and 7 are Sunday), on the wall
    clock. APScheduler 3 numbers weekdays from Monday, so the day field is translated."""
    minute, hour, day, month, weekday = expression.split()
    if day != "*" and weekday != "*":
        raise ScheduleRefused("Give either a day of the month or days of the week in the cron "
                              "expression, not both.")
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=cron_weekdays(weekday), timezone=UTC)
    except ValueError as exc:
        raise ScheduleRefused(f"That cron expression doesn't parse: {str(exc)[:120]}") from None


def cron_weekdays(field: str) -> str:
    """Cron's day-of-week field as day names: '1-5' -> 'mon,tue,wed,thu,fri'."""
    if field == "*":
        return "*"
    chosen: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = _cron_number(step_text, 1, 7) if step_text else 1
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            low_text, high_text = span.split("-", 1)
            low, high = _cron_day(low_text), _cron_day(high_text)
            if high == 0 and low > 0:
                high = 7  # 'fri-sun'
        else:
            low = high = _cron_day(span)
        if low > high:
            raise ScheduleRefused(f"The day range '{span[:20]}' runs backwards.")
        chosen.update(d % 7 for d in range(low, high + 1, step))
    # cron: 0 is Sunday; DAYS starts on Monday.
    return ",".join(DAYS[(d - 1) % 7] for d in sorted(chosen, key=lambda d: (d - 1) % 7))


def _cron_day(text: str) -> int:
    names = {name: (i + 1) % 7 for i, name in enumerate(DAYS)}
    if text in names:
        return names[text]
    return _cron_number(text, 0, 7)


def _cron_number(text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ScheduleRefused(f"'{text[:20]}' is not a day of the week (0–7 or mon–sun).")
    return int(text)


def check_spacing(cron: CronTrigger) -> None:
    """Refuses a cron expression that would run more often than once an hour."""
    wall = datetime(2030, 1, 1, tzinfo=UTC)
    previous = cron.get_next_fire_time(None, wall)
    for _ in range(200):
        if previous is None:
            return
        following = cron.get_next_fire_time(previous, previous + timedelta(microseconds=1))
        if following is not None and following - previous < MIN_SPACING:
            raise ScheduleRefused("A schedule may run at most once an hour.")
        previous = following


def trigger_for(schedule: Schedule | NewSchedule) -> WallClockTrigger:
    return wall_clock_trigger(schedule.time_of_day, schedule.days, schedule.timezone)


@lru_cache(maxsize=8192)
def wall_clock_trigger(time_of_day: str | None, days: str, timezone: str) -> WallClockTrigger:
    """Triggers hold no state, so schedules with the same timing share one: servers pick the
    same few times, and building a CronTrigger costs more than computing with it."""
    return WallClockTrigger(read_when(time_of_day, days).cron, zone(timezone))


def describe(schedule: Schedule | NewSchedule) -> str:
    """The schedule in words: 'Weekdays at 09:00 (Europe/Berlin)'."""
    if schedule.time_of_day is None:
        when = f"Cron `{schedule.days}`"
    elif schedule.days == "every day":
        when = f"Every day at {schedule.time_of_day}"
    elif schedule.days in NAMED_DAY_SETS:
        when = f"{schedule.days.capitalize()} at {schedule.time_of_day}"
    else:
        names = ", ".join(d.capitalize() for d in schedule.days.split(","))
        when = f"{names} at {schedule.time_of_day}"
    return f"{when} ({schedule.timezone})"


class ScheduleService:
    """The use cases of /schedule: add, list, pause, resume, remove."""

    def __init__(self, store: Store, bank: Bank, clock: Callable[[], float]) -> None:
        self.store = store
        self.bank = bank
        self.clock = clock

    async def add(self, *, guild_id: int, channel_id: int, time_text: str | None,
                  days_text: str | None, timezone: str, pack: str | None,
                  difficulty: str | None, kind: str | None, ping_role_id: int | None,
                  created_by: int) -> Schedule:
        """Stores a new schedule; raises ScheduleRefused, UnknownPack, PackDisabled,
        NoMatchingProblem, UnknownZone or ScheduleLimitReached, storing nothing."""
        when = parse_when(time_text, days_text)
        zone_name = canonical_zone(timezone)
        self.check_problems(pack, difficulty, kind)
        if pack is not None and pack in await self.store.settings.disabled_packs(guild_id):
            raise PackDisabled(pack)
        new = NewSchedule(guild_id=guild_id, channel_id=channel_id,
                          time_of_day=when.time_of_day, days=when.days, timezone=zone_name,
                          pack_id=pack, difficulty=difficulty, kind=kind,
                          ping_role_id=ping_role_id, created_by=created_by,
                          created_at=self.clock())
        return await self.store.schedules.add(new, MAX_PER_SERVER)

    def check_problems(self, pack: str | None, difficulty: str | None, kind: str | None) -> None:
        if pack is not None and pack not in self.bank.packs:
            raise UnknownPack(pack)
        if not any((pack is None or p.pack_id == pack)
                   and (difficulty is None or p.difficulty == difficulty)
                   and (kind is None or p.kind == kind) for p in self.bank.problems.values()):
            raise NoMatchingProblem(pack, difficulty, kind)

    async def of_guild(self, guild_id: int) -> list[Schedule]:
        return await self.store.schedules.of_guild(guild_id)

    async def get(self, guild_id: int, schedule_id: int) -> Schedule:
        """The schedule, if it is this server's; another server's ids are not found."""
        schedule = await self.store.schedules.get(schedule_id)
        if schedule is None or schedule.guild_id != guild_id:
            raise ScheduleNotFound(schedule_id)
        return schedule

    async def pause(self, guild_id: int, schedule_id: int, reason: str) -> Schedule:
        await self.get(guild_id, schedule_id)
        await self.store.schedules.pause(schedule_id, reason)
        return await self.get(guild_id, schedule_id)

    async def resume(self, guild_id: int, schedule_id: int) -> Schedule:
        await self.get(guild_id, schedule_id)
        await self.store.schedules.resume(schedule_id)
        return await self.get(guild_id, schedule_id)

    async def remove(self, guild_id: int, schedule_id: int) -> Schedule:
        schedule = await self.get(guild_id, schedule_id)
        await self.store.schedules.remove(schedule_id)
        return schedule

    async def running(self) -> list[Schedule]:
        return await self.store.schedules.running()

    async def find(self, schedule_id: int) -> Schedule | None:
        """Any server's schedule, for the scheduler that runs them all."""
        return await self.store.schedules.get(schedule_id)

    async def running_among(self, ids: list[int]) -> list[Schedule]:
        """Those of `ids` still there and not paused: what a fire runs."""
        return await self.store.schedules.running_among(ids)

    async def claim_run(self, job: str, slot: int, now: float) -> bool:
        """True for the one caller that may make this run; it is recorded before posting."""
        return await self.store.fires.claim(job, slot, now)

    async def finish_run(self, job: str, slot: int, code: str) -> None:
        await self.store.fires.finish(job, slot, code)

    async def note_outcome(self, schedule_id: int, slot: int, text: str) -> None:
        await self.store.schedules.note_outcome(schedule_id, slot, text)

    async def pause_broken(self, schedule_id: int, reason: str) -> None:
        """A target that can't work until an admin acts: paused, never retried in a loop."""
        await self.store.schedules.pause(schedule_id, reason)

    def next_run(self, schedule: Schedule, after: float) -> datetime | None:
        """The next run after `after` (UNIX seconds), or None if it has none."""
        if schedule.paused_reason is not None:
            return None
        return trigger_for(schedule).first_at_or_after(
            datetime.fromtimestamp(after, UTC) + timedelta(microseconds=1))


__all__ = ["MAX_PER_SERVER", "ScheduleNotFound", "ScheduleRefused", "ScheduleService",
           "UnknownZone", "When", "describe", "parse_days", "parse_when", "trigger_for"]
