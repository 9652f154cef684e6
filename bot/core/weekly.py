"""The weekly results: what a server did in the seven days before the post, read on its own
wall clock, and when the next post is due. Knows no Discord."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import Any

from bot.core.clock_time import parse_hhmm
from bot.core.zones import stored_zone, zone
from bot.store import Store
from bot.store.records import GuildSettings
from bot.store.weekly import ProblemTally

WEEK = timedelta(days=7)
TOP = 10
IMPROVED = 3
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_DAY, DEFAULT_TIME = 0, "09:00"  # a new weekly post: Monday morning
WEEKLY_OFF = {"weekly_channel_id": None, "weekly_day": None, "weekly_time": None}


@dataclass(frozen=True)
class Standing:
    rank: int  # competition ranking: equal points share a rank (1, 2, 2, 4)
    member_id: int
    points: int


@dataclass(frozen=True)
class Improvement:
    member_id: int
    points: int  # in the week
    previous: int  # in the week before

    @property
    def rise(self) -> int:
        return self.points - self.previous


@dataclass(frozen=True)
class MissedProblem:
    problem_id: str
    answered: int  # members who answered it in the week
    right: int  # of them, those who got it right in the end

    @property
    def missed(self) -> int:
        return self.answered - self.right

    @property
    def correct_rate(self) -> float:
        return self.right / self.answered


@dataclass(frozen=True)
class WeeklyReport:
    guild_id: int
    zone: str  # the IANA name the week was read in
    start: float  # UNIX seconds: the week is [start, end)
    end: float
    top: tuple[Standing, ...] = ()
    improved: tuple[Improvement, ...] = ()
    badges: tuple[tuple[int, str], ...] = ()  # (member, badge id), in the order earned
    missed_most: MissedProblem | None = None
    challenges: int = 0  # posted in the week
    members: int = 0  # who answered at least once

    @property
    def quiet(self) -> bool:
        """Nobody answered anything: the post says so instead of showing empty lists."""
        return self.members == 0 and not self.badges

    @property
    def first_day(self) -> date:
        return datetime.fromtimestamp(self.start, stored_zone(self.zone)).date()

    @property
    def last_day(self) -> date:
        """The local date of the week's last moment (a post at Monday 00:00 ends on Sunday)."""
        return datetime.fromtimestamp(self.end - 1e-3, stored_zone(self.zone)).date()


class WeeklyService:
    """Builds the weekly results post's content from the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def report(self, guild_id: int, end: float, zone_name: str) -> WeeklyReport:
        """The seven days of the server's wall clock before `end` (UNIX seconds), whatever
        day the post runs on; "improved" compares them with the seven days before."""
        local = stored_zone(zone_name)
        start, previous_start = week_start(end, local), week_start(end, local, weeks=2)
        activity = await self.store.weekly.activity(guild_id, start, end,
                                                    previous_start=previous_start)
        return WeeklyReport(
            guild_id=guild_id, zone=local.key, start=start, end=end,
            top=top_standings(activity.points),
            improved=most_improved(activity.points, activity.previous_points),
            badges=tuple((member, badge) for member, badge, _ in activity.badges),
            missed_most=missed_most(activity.problems),
            challenges=activity.challenges, members=len(activity.points))


def week_start(end: float, local: tzinfo, weeks: int = 1) -> float:
    """`weeks` weeks of wall clock before `end`: Monday 09:00 to Monday 09:00 across a
    daylight-saving change too."""
    wall = datetime.fromtimestamp(end, local).replace(tzinfo=None) - weeks * WEEK
    return place(wall, local)


def place(wall: datetime, local: tzinfo) -> float:
    """The instant of a local wall time: a time skipped by a change runs at the offset from
    before it (an hour later), a repeated one at its first occurrence (zoneinfo's fold=0)."""
    return wall.replace(tzinfo=local, fold=0).timestamp()


def top_standings(points: Mapping[int, int], size: int = TOP) -> tuple[Standing, ...]:
    """The members with points, most first, ties by member id."""
    ranked = sorted(((m, p) for m, p in points.items() if p > 0), key=lambda mp: (-mp[1], mp[0]))
    standings: list[Standing] = []
    for index, (member, score) in enumerate(ranked[:size]):
        tied = standings and standings[-1].points == score
        standings.append(Standing(standings[-1].rank if tied else index + 1, member, score))
    return tuple(standings)


def most_improved(points: Mapping[int, int], previous: Mapping[int, int],
                  size: int = IMPROVED) -> tuple[Improvement, ...]:
    """The largest rises over the week before (only rises), ties by member id."""
    rises = [Improvement(m, p, previous.get(m, 0)) for m, p in points.items()]
    rises = [r for r in rises if r.rise > 0]
    return tuple(sorted(rises, key=lambda r: (-r.rise, r.member_id))[:size])


def missed_most(problems: tuple[ProblemTally, ...]) -> MissedProblem | None:
    """The problem most members ended wrong on; ties: the lower correct rate, then the id."""
    missed = [MissedProblem(p.problem_id, p.answered, p.right) for p in problems
              if p.answered > p.right]
    if not missed:
        return None
    return min(missed, key=lambda p: (-p.missed, Fraction(p.right, p.answered), p.problem_id))


def next_post(day: int, hhmm: str, zone_name: str, after: float) -> float:
    """The first weekly post after `after` (UNIX seconds): weekday `day` (Monday 0) at
    `hhmm` on the zone's wall clock, placed as the scheduler places it (see `place`)."""
    local, (hour, minute) = zone(zone_name), parse_hhmm(hhmm)
    today = datetime.fromtimestamp(after, local).date()
    for ahead in range(15):
        candidate = today + timedelta(days=ahead)
        if candidate.weekday() == day:
            instant = place(datetime.combine(candidate, time(hour, minute)), local)
            if instant > after:
                return instant
    raise AssertionError("a weekday recurs within a fortnight")


def describe_weekly(day: int, hhmm: str, zone_name: str) -> str:
    """'Every Monday at 09:00 (Europe/Berlin)'."""
    return f"Every {DAY_NAMES[day]} at {hhmm} ({zone_name})"


def weekly_changes(current: GuildSettings, channel_id: int | None, day: int | None,
                   hhmm: str | None) -> dict[str, Any] | None:
    """The settings /tutor weekly-post saves: each option given, else what is set, else
    Monday 09:00; None if no channel is given or set."""
    channel_id = channel_id if channel_id is not None else current.weekly_channel_id
    if channel_id is None:
        return None
    day = day if day is not None else current.weekly_day
    return {"weekly_channel_id": channel_id,
            "weekly_day": DEFAULT_DAY if day is None else day,
            "weekly_time": hhmm or current.weekly_time or DEFAULT_TIME}


def check_weekly_day(day: int | None) -> None:
    if day is not None and not 0 <= day <= 6:
        raise ValueError("The day must be 0 (Monday) to 6 (Sunday).")


def canonical_hhmm(text: str) -> str:
    """'9:05' -> '09:05'; ValueError (from parse_hhmm) saying what to type."""
    hour, minute = parse_hhmm(text)
    return f"{hour:02d}:{minute:02d}"


__all__ = ["DAY_NAMES", "WEEKLY_OFF", "Improvement", "MissedProblem", "Standing",
           "WeeklyReport", "WeeklyService", "canonical_hhmm", "check_weekly_day",
           "describe_weekly", "next_post", "weekly_changes"]
