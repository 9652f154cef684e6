"""Today, this week and this month follow the server's time zone, through the real answer path:
the keys an answer counts in are computed when it is stored, in the zone the server has then."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.periods import Period
from bot.core.progress import ProgressService
from bot.core.settings import SettingsService
from tests.store.conftest import GUILD

members = itertools.count(1000)


def local(text: str, zone: str) -> float:
    """UNIX seconds of a wall time in `zone`, 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


async def stored_keys(store, member: int) -> set[str]:
    rows = await store.db.fetchall("SELECT DISTINCT period FROM member_points"
                                   " WHERE guild_id = ? AND member_id = ?", (GUILD, member))
    return {period for (period,) in rows}


@pytest.fixture
def answer_at(store, service, open_challenge):
    """Sets the server's zone, answers one challenge correctly at `now` as a new member, and
    returns the period keys the points were stored under."""
    async def answer(now: float, zone: str) -> set[str]:
        await SettingsService(store).change(GUILD, timezone=zone)
        challenge = await open_challenge(now=now - 5)
        member = next(members)
        await service.answer(challenge.id, member, "B", now, f"s-{member}")
        return await stored_keys(store, member)
    return answer


@pytest.mark.parametrize(("wall", "zone", "day"), [
    ("2026-03-10 23:30", "America/New_York", "d2026-03-10"),  # 03:30 UTC the next day
    ("2026-03-11 00:30", "America/New_York", "d2026-03-11"),
    ("2026-03-10 23:30", "Asia/Tokyo", "d2026-03-10"),
    ("2026-03-11 00:30", "Asia/Tokyo", "d2026-03-11"),  # 15:30 UTC the day before
])
async def test_an_answer_counts_for_the_servers_local_day(answer_at, wall, zone, day):
    assert day in await answer_at(local(wall, zone), zone)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
async def test_the_week_turns_at_local_monday_midnight(answer_at, zone):
    sunday = await answer_at(local("2026-03-15 23:30", zone), zone)
    monday = await answer_at(local("2026-03-16 00:30", zone), zone)
    assert "w2026-11" in sunday and "w2026-12" in monday


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
async def test_the_month_turns_at_local_midnight(answer_at, zone):
    assert "m2026-03" in await answer_at(local("2026-03-31 23:30", zone), zone)
    assert "m2026-04" in await answer_at(local("2026-04-01 00:30", zone), zone)


async def test_a_zone_given_in_any_case_is_stored_canonically(store):
    saved = await SettingsService(store).change(GUILD, timezone="america/new_york")
    assert saved.timezone == "America/New_York"
    assert (await store.settings.get(GUILD)).timezone == "America/New_York"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(now=st.floats(min_value=946_684_800, max_value=2_145_916_800),  # 2000 to 2038
       zone=st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
                             "Australia/Lord_Howe", "Pacific/Kiritimati", "Pacific/Pago_Pago",
                             "Europe/Berlin", "America/St_Johns"]))
async def test_the_stored_keys_are_the_dates_zoneinfo_gives_for_that_instant(answer_at, now,
                                                                             zone):
    moment = datetime.fromtimestamp(now, ZoneInfo(zone))
    year, week, _ = moment.isocalendar()
    assert await answer_at(now, zone) == {f"d{moment.date().isoformat()}",
                                          f"w{year}-{week:02d}",
                                          f"m{moment.year}-{moment.month:02d}", "all"}


async def test_the_leaderboard_reads_today_in_the_servers_zone_now(store, answer_at):
    at = local("2026-03-10 23:30", "America/New_York")  # 2026-03-11 03:30 UTC
    await answer_at(at, "America/New_York")
    progress = ProgressService(store, clock=lambda: at + 600)

    async def today() -> tuple[str, int]:
        board = await progress.leaderboard(GUILD, Period.TODAY, "*", 0, member_id=1)
        return board.period, board.total_members

    assert await today() == ("d2026-03-10", 1)
    await SettingsService(store).change(GUILD, timezone="Asia/Tokyo")
    # In Tokyo it is already the 11th: a new day, and the answer stays in New York's 10th.
    assert await today() == ("d2026-03-11", 0)
    await answer_at(at + 60, "Asia/Tokyo")
    assert await today() == ("d2026-03-11", 1)


def test_the_example_instants_are_the_ones_named():
    """The walls above straddle UTC's date, so a key read in UTC would be wrong."""
    ny = datetime.fromtimestamp(local("2026-03-10 23:30", "America/New_York"), UTC)
    tokyo = datetime.fromtimestamp(local("2026-03-11 00:30", "Asia/Tokyo"), UTC)
    assert (ny.day, tokyo.day) == (11, 10)
