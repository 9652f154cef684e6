"""Next fire times across daylight-saving changes, checked against zoneinfo itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.wallclock import WallClockTrigger

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
         "America/Santiago", "Asia/Kolkata", "UTC")


def daily(hour: int, minute: int, zone: str) -> WallClockTrigger:
    return WallClockTrigger(CronTrigger(hour=hour, minute=minute, timezone=UTC), ZoneInfo(zone))


def runs_on_days(trigger: WallClockTrigger, first: date, days: int) -> list[datetime]:
    zone = trigger.zone
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(first + timedelta(days=days), time(0), zone)
    return trigger.runs_between(start - timedelta(microseconds=1), end - timedelta(microseconds=1))


def transition_days(zone: str, year: int) -> list[date]:
    """The local days on which the zone's UTC offset changes."""
    tz = ZoneInfo(zone)
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        noon_before = datetime.combine(day, time(0), tz).utcoffset()
        noon_after = datetime.combine(day + timedelta(days=1), time(0), tz).utcoffset()
        if noon_before != noon_after:
            days.append(day)
        day += timedelta(days=1)
    return days


def rule(day: date, hour: int, minute: int, zone: str) -> datetime:
    """The documented rule, straight from zoneinfo: the wall time with fold=0."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)


def exists_once(day: date, hour: int, minute: int, zone: str) -> bool:
    """Whether this wall time happens exactly once (neither skipped nor repeated)."""
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, time(hour, minute))
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return first.utcoffset() == second.utcoffset() and round_trip == wall


@st.composite
def around_a_change(draw):
    zone = draw(st.sampled_from([z for z in ZONES if transition_days(z, 2027)]))
    change = draw(st.sampled_from(transition_days(zone, 2027)))
    first = change - timedelta(days=draw(st.integers(0, 3)))
    return zone, first


@settings(max_examples=150, deadline=None)
@given(around_a_change(), st.integers(0, 23), st.integers(0, 59))
def test_a_daily_schedule_runs_once_every_local_day_across_a_change(case, hour, minute):
    zone, first = case
    trigger = daily(hour, minute, zone)
    runs = runs_on_days(trigger, first, 6)
    assert len(runs) == 6, runs
    for offset, run in enumerate(runs):
        day = first + timedelta(days=offset)
        assert run.astimezone(UTC) == rule(day, hour, minute, zone)
        if exists_once(day, hour, minute, zone):
            local = run.astimezone(ZoneInfo(zone))
            assert (local.date(), local.hour, local.minute) == (day, hour, minute)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(2026, 1, 1), date(2030, 12, 31)),
       st.integers(0, 23), st.integers(0, 59))
def test_runs_follow_the_rule_on_any_day(zone, day, hour, minute):
    runs = runs_on_days(daily(hour, minute, zone), day, 2)
    assert [r.astimezone(UTC) for r in runs] == [rule(day + timedelta(days=d), hour, minute, zone)
                                                  for d in range(2)]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), st.datetimes(datetime(2026, 1, 1), datetime(2030, 12, 31),
                                            timezones=st.just(UTC)),
       st.integers(0, 23), st.integers(0, 59))
def test_the_next_run_is_the_first_at_or_after_now(zone, now, hour, minute):
    trigger = daily(hour, minute, zone)
    run = trigger.get_next_fire_time(None, now)
    assert run is not None and run >= now
    assert trigger.runs_between(now - timedelta(microseconds=1), run - timedelta(microseconds=1)) \
        == []
    assert trigger.get_next_fire_time(run, run) > run  # after a run, never the same run again


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_nine_oclock_stays_nine_oclock_on_both_sides_of_each_change():
    berlin = daily(9, 0, "Europe/Berlin")
    spring = runs_on_days(berlin, date(2026, 3, 28), 2)
    autumn = runs_on_days(berlin, date(2026, 10, 24), 2)
    assert spring == [utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)]
    assert autumn == [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)]
    new_york = daily(9, 0, "America/New_York")
    assert runs_on_days(new_york, date(2026, 3, 7), 2) == [utc(2026, 3, 7, 14),
                                                            utc(2026, 3, 8, 13)]
    assert runs_on_days(new_york, date(2026, 10, 31), 2) == [utc(2026, 10, 31, 13),
                                                              utc(2026, 11, 1, 14)]


def test_a_skipped_time_runs_an_hour_later_and_a_repeated_one_runs_once():
    berlin = daily(2, 30, "Europe/Berlin")
    # 29 March 2026: 02:00 -> 03:00. 02:30 doesn't exist; it runs at 03:30 CEST.
    assert runs_on_days(berlin, date(2026, 3, 29), 1) == [utc(2026, 3, 29, 1, 30)]
    # 25 October 2026: 03:00 -> 02:00. 02:30 happens twice; it runs at the first.
    assert runs_on_days(berlin, date(2026, 10, 25), 1) == [utc(2026, 10, 25, 0, 30)]
    new_york = daily(1, 30, "America/New_York")
    assert runs_on_days(new_york, date(2026, 11, 1), 1) == [utc(2026, 11, 1, 5, 30)]


def test_apschedulers_own_cron_trigger_fires_twice_on_a_repeated_time():
    """Why the wall-clock trigger exists: if APScheduler fixes this, the docs can say so."""
    zone = ZoneInfo("Europe/Berlin")
    cron = CronTrigger(hour=2, minute=30, timezone=zone)
    first = cron.get_next_fire_time(None, datetime(2026, 10, 25, 0, 0, tzinfo=zone))
    second = cron.get_next_fire_time(first, first + timedelta(seconds=1))
    assert first.date() == second.date() == date(2026, 10, 25)
