"""The weekly report equals a plain recomputation over the stored rows; the week and the next
post follow the server's wall clock across daylight-saving changes."""

import asyncio
import contextlib
import sqlite3
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import ChallengeError
from bot.core.rules import CoreRules
from bot.core.schedules import DAYS
from bot.core.service import ChallengeService
from bot.core.wallclock import WallClockTrigger
from bot.core.weekly import (
    Improvement,
    MissedProblem,
    Standing,
    WeeklyService,
    canonical_hhmm,
    next_post,
    week_start,
)
from bot.store import Store
from bot.store.records import GuildSettings
from tests.factories import bank as make_bank

BANK = make_bank(problems_per_pack=3, packs=("pack", "other"))
PROBLEMS = sorted(BANK.problems)
DAY = 86_400
BASE = 1_773_964_800  # 2026-03-20 00:00 UTC: Europe's spring change follows it
GUILD, OTHER = 1, 2
BERLIN = ZoneInfo("Europe/Berlin")

answer_spec = st.tuples(
    st.integers(0, 3) | st.integers(0, 13),  # which member: a few regulars, more than a top 10
    st.sampled_from("ABBC"),  # B is every problem's key
    st.integers(0, 130),  # seconds after the challenge opened; past 120 it is refused
)
# When a challenge opened, in seconds before the report's end: often on a day boundary (a
# week's edge), mostly in the week or the one before it.
opened_before_end = st.sampled_from(range(0, 16 * DAY, DAY)) | st.integers(-DAY, 16 * DAY)
challenge_spec = st.tuples(
    st.sampled_from([GUILD, GUILD, GUILD, OTHER]),
    st.integers(0, len(PROBLEMS) - 1),
    opened_before_end,
    st.booleans(),  # its post went out (a failed post leaves no message id)
    st.lists(answer_spec, max_size=8),
)


async def play(db_path: Path, end: int, challenges) -> None:
    rules = CoreRules.for_bank(BANK)
    store = await Store.open(db_path, rules, synchronous="OFF")
    try:
        service = ChallengeService(store, BANK, rules)
        for guild, problem, before_end, posted, answers in challenges:
            ch = await service.start(guild_id=guild, channel_id=guild, starter_id=0,
                                     problem=BANK.problems[PROBLEMS[problem]],
                                     settings=GuildSettings(guild, multiple_per_channel=True),
                                     now=float(end - before_end))
            if posted:
                await store.challenges.set_message(ch.id, 1000 + ch.id)
            for member, choice, delay in answers:
                with contextlib.suppress(ChallengeError):
                    await service.answer(ch.id, member, choice, ch.opened_at + delay,
                                         f"{ch.id}:{member}:{delay}")
    finally:
        await store.close()


async def report_of(db_path: Path, end: float, zone: str):
    store = await Store.open(db_path, CoreRules.for_bank(BANK), synchronous="OFF")
    try:
        return await WeeklyService(store).report(GUILD, end, zone)
    finally:
        await store.close()


def wall_week_start(end: float, zone: str, weeks: int) -> float:
    local = datetime.fromtimestamp(end, ZoneInfo(zone)).replace(tzinfo=None)
    return (local - timedelta(weeks=weeks)).replace(tzinfo=ZoneInfo(zone)).timestamp()


def recompute(db_path: Path, end: float, zone: str) -> dict:
    """The report by hand, from every stored row."""
    start, previous_start = wall_week_start(end, zone, 1), wall_week_start(end, zone, 2)
    with sqlite3.connect(db_path) as conn:
        attempts = conn.execute(
            "SELECT c.guild_id, c.problem_id, a.member_id, a.correct, a.points, a.answered_at"
            " FROM attempts a JOIN challenges c ON c.id = a.challenge_id").fetchall()
        challenges = conn.execute(
            "SELECT guild_id, opened_at, message_id FROM challenges").fetchall()
        badges = conn.execute("SELECT guild_id, member_id, badge_id, awarded_at FROM badges"
                              " ORDER BY awarded_at, member_id, badge_id").fetchall()
    points: dict[int, int] = defaultdict(int)
    previous: dict[int, int] = defaultdict(int)
    answered: dict[str, set[int]] = defaultdict(set)
    right: dict[str, set[int]] = defaultdict(set)
    for guild, problem, member, correct, score, at in attempts:
        if guild != GUILD:
            continue
        if start <= at < end:
            points[member] += score
            answered[problem].add(member)
            if correct:
                right[problem].add(member)
        elif previous_start <= at < start:
            previous[member] += score
    ranked = sorted((m for m in points if points[m] > 0), key=lambda m: (-points[m], m))[:10]
    top = tuple(Standing(1 + sum(p > points[m] for p in points.values()), m, points[m])
                for m in ranked)
    rises = sorted((m for m in points if points[m] > previous[m]),
                   key=lambda m: (-(points[m] - previous[m]), m))[:3]
    improved = tuple(Improvement(m, points[m], previous[m]) for m in rises)
    missed = [MissedProblem(p, len(who), len(right[p])) for p, who in answered.items()
              if len(who) > len(right[p])]
    missed.sort(key=lambda p: (-p.missed, p.right / p.answered, p.problem_id))
    return {
        "top": top, "improved": improved, "missed_most": missed[0] if missed else None,
        "badges": tuple((m, b) for g, m, b, at in badges if g == GUILD and start <= at < end),
        "challenges": sum(1 for g, at, message in challenges
                          if g == GUILD and start <= at < end and message is not None),
        "members": len(points),
    }


@settings(max_examples=60, deadline=None)
@given(challenges=st.lists(challenge_spec, min_size=1, max_size=12),
       end=st.sampled_from(range(BASE + 14 * DAY, BASE + 21 * DAY, 3600)),
       zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
def test_the_report_equals_a_recomputation_by_hand(challenges, end, zone):
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "t.db"
        asyncio.run(play(db_path, end, challenges))
        report = asyncio.run(report_of(db_path, float(end), zone))
        expected = recompute(db_path, float(end), zone)
    assert {name: getattr(report, name) for name in expected} == expected
    assert report.quiet == (expected["members"] == 0 and not expected["badges"])


def test_the_week_is_seven_days_of_wall_clock_across_a_change():
    end = datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN).timestamp()  # Monday after the change
    assert week_start(end, BERLIN) == datetime(2026, 3, 23, 9, 0, tzinfo=BERLIN).timestamp()
    assert end - week_start(end, BERLIN) == 7 * DAY - 3600  # a week one hour short


def at_berlin(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()


def test_the_next_post_is_the_next_such_weekday_at_that_local_time():
    sunday_noon = at_berlin(2026, 3, 29, 12, 0)  # the day clocks went forward
    assert next_post(0, "09:00", "Europe/Berlin", sunday_noon) == at_berlin(2026, 3, 30, 9, 0)
    monday_nine = at_berlin(2026, 3, 30, 9, 0)  # exactly at a post: the one after it
    assert next_post(0, "09:00", "Europe/Berlin", monday_nine) == at_berlin(2026, 4, 6, 9, 0)


def test_a_time_skipped_by_the_change_runs_an_hour_later():
    saturday = at_berlin(2026, 3, 28, 12, 0)
    expected = datetime(2026, 3, 29, 1, 30, tzinfo=UTC).timestamp()  # 03:30 CEST
    assert next_post(6, "02:30", "Europe/Berlin", saturday) == expected


def test_a_time_that_happens_twice_runs_at_its_first_occurrence():
    saturday = at_berlin(2026, 10, 24, 12, 0)
    expected = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp()  # 02:30 CEST, not CET
    assert next_post(6, "02:30", "Europe/Berlin", saturday) == expected


@settings(max_examples=200, deadline=None)
@given(day=st.integers(0, 6), hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 59]),
       zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                             "UTC"]),
       after=st.integers(1_774_000_000, 1_774_000_000 + 400 * DAY))
def test_the_next_post_is_when_the_scheduler_fires(day, hour, minute, zone, after):
    trigger = WallClockTrigger(CronTrigger(day_of_week=DAYS[day], hour=hour, minute=minute,
                                           timezone=UTC), ZoneInfo(zone))
    fire = trigger.first_at_or_after(datetime.fromtimestamp(after + 1, UTC))
    assert next_post(day, f"{hour:02d}:{minute:02d}", zone, after) == fire.timestamp()


@pytest.mark.parametrize(("typed", "stored"), [("9:05", "09:05"), ("18.30", "18:30"),
                                               (" 00:00 ", "00:00")])
def test_times_are_stored_as_hh_mm(typed, stored):
    assert canonical_hhmm(typed) == stored


@pytest.mark.parametrize("typed", ["25:00", "9", "09:60", "nine", ""])
def test_a_time_that_is_not_hh_mm_is_refused_saying_what_to_type(typed):
    with pytest.raises(ValueError, match="HH:MM"):
        canonical_hhmm(typed)
