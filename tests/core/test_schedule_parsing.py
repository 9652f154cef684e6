"""Reading `time` and `days` as admins type them, and cron as cron reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.schedules import ScheduleRefused, describe, parse_days, parse_when, trigger_for
from bot.store.records import NewSchedule


@pytest.mark.parametrize(("typed", "canonical"), [
    ("every day", "every day"), ("Daily", "every day"), ("everyday", "every day"),
    ("weekdays", "weekdays"), ("WEEKENDS", "weekends"),
    ("mon,wed,fri", "mon,wed,fri"), ("Friday, monday wed", "mon,wed,fri"),
    ("tues,thurs", "tue,thu"), ("mon-fri", "mon,tue,wed,thu,fri"), ("fri-mon", "mon,fri,sat,sun"),
    ("mon,tue,wed,thu,fri,sat,sun", "every day"),
])
def test_day_sets(typed, canonical):
    assert parse_days(typed) == canonical


@pytest.mark.parametrize("typed", ["someday", "mo", "mon,xyz", "monday!"])
def test_unknown_days_are_refused(typed):
    with pytest.raises(ScheduleRefused, match="I don't know the day"):
        parse_days(typed)


def weekdays_of(days: str, time: str | None = "09:00") -> set[int]:
    """The weekdays (0 Monday) of a fortnight of runs."""
    schedule = NewSchedule(guild_id=1, channel_id=1, time_of_day=time, days=days,
                           timezone="UTC", created_by=1, created_at=0.0)
    start = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday
    return {r.weekday() for r in trigger_for(schedule).runs_between(start, start
                                                                    + timedelta(days=14))}


def test_cron_weekdays_count_from_sunday_as_cron_does():
    assert weekdays_of("0 9 * * 1-5", None) == {0, 1, 2, 3, 4}
    assert weekdays_of("0 9 * * 0", None) == {6}
    assert weekdays_of("0 9 * * 7", None) == {6}
    assert weekdays_of("0 9 * * sat,sun", None) == {5, 6}
    assert weekdays_of("0 9 * * fri-sun", None) == {4, 5, 6}
    assert weekdays_of("0 9 * * */2", None) == {6, 1, 3, 5}  # 0, 2, 4, 6: Sun, Tue, Thu, Sat
    assert weekdays_of("weekdays") == {0, 1, 2, 3, 4}
    assert weekdays_of("weekends") == {5, 6}


@pytest.mark.parametrize(("time", "days", "message"), [
    ("25:00", None, "HH:MM"), ("9", None, "HH:MM"), (None, "weekdays", "Say when"),
    ("09:00", "0 9 * * 1", "leave `time` out"), (None, "*/5 * * * *", "at most once an hour"),
    (None, "0 9 1 * 1", "not both"), (None, "0 9 * * 8", "not a day of the week"),
    (None, "0 9 * * 5-1", "runs backwards"), (None, "0 25 * * *", "doesn't parse"),
])
def test_refusals_say_what_to_type(time, days, message):
    with pytest.raises(ScheduleRefused, match=message):
        parse_when(time, days)


def test_descriptions():
    def schedule(time, days, zone="Europe/Berlin"):
        return NewSchedule(guild_id=1, channel_id=1, time_of_day=time, days=days, timezone=zone,
                           created_by=1, created_at=0.0)
    assert describe(schedule("09:00", "weekdays")) == "Weekdays at 09:00 (Europe/Berlin)"
    assert describe(schedule("18:30", "every day")) == "Every day at 18:30 (Europe/Berlin)"
    assert describe(schedule("07:05", "mon,wed")) == "Mon, Wed at 07:05 (Europe/Berlin)"
    assert describe(schedule(None, "0 9 * * 1-5", "UTC")) == "Cron `0 9 * * 1-5` (UTC)"
