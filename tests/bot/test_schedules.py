"""/schedule in simcord: the commands, one scheduled post end to end through APScheduler, and
the fire rules (once per run, catch-up, busy channel, broken targets)."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, datetime

import discord
import pytest

from bot.cli.demo import scheduler_on_simulated_clock
from tests.bot.conftest import Room
from tests.bot.test_restart import restart

MINUTE = 60


@pytest.fixture
def scheduler_on_bot_clock():
    """APScheduler reads datetime.now(); here it reads simcord's clock, as the bot does."""
    with scheduler_on_simulated_clock():
        yield


def bot_posts(room) -> list[discord.Message]:
    return [m for m in room.channel.history() if m.author.id == room.env.bot.user.id]


def at(env, hhmm: str) -> int:
    """UNIX seconds of today's HH:MM (UTC) on simcord's clock."""
    hour, minute = map(int, hhmm.split(":"))
    return int(env.now().replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp())


async def add(room, **options):
    return await room.admin.slash(room.channel, "schedule add", **options)


async def only_schedule(env, room):
    schedules = await env.bot.tutor.schedules.of_guild(room.guild.id)
    assert len(schedules) == 1
    return schedules[0]


async def test_a_schedule_posts_by_itself_with_its_ping(env, room, scheduler_on_bot_clock):
    learners = room.guild.create_role("Learners", mentionable=True)
    reply = await add(room, channel=room.channel, time="00:05", days="every day",
                      ping=learners)
    assert reply.response.ephemeral
    assert "Schedule **#1**: Every day at 00:05 (UTC)" in reply.response.content
    assert re.search(r"Next: <t:\d+:F> \(<t:\d+:R>\)", reply.response.content)
    assert bot_posts(room) == []

    await env.advance_time(6 * MINUTE)

    [post] = bot_posts(room)
    assert post.content == f"<@&{learners.id}>"
    assert post.embeds and post.components  # the challenge itself, with its buttons
    schedule = await only_schedule(env, room)
    assert schedule.last_fire_at == at(env, "00:05")
    assert schedule.last_outcome.startswith("posted challenge #")


async def test_schedules_with_the_same_timing_share_one_job(env, room,
                                                            scheduler_on_bot_clock):
    other = Room(env)
    await add(room, channel=room.channel, time="00:05")
    await add(other, channel=other.channel, time="00:05")
    await add(other, channel=other.channel, time="00:05", timezone="Europe/Berlin")
    rhythm = env.bot.tutor.rhythm
    assert rhythm.job_for(1) is rhythm.job_for(2) is not None  # one job: one timing
    assert rhythm.job_for(3) is not rhythm.job_for(1)  # another zone, another timing
    paused = await room.admin.slash(room.channel, "schedule pause", id=1)
    assert "paused" in paused.response.content
    assert rhythm.job_for(1) is None and rhythm.job_for(2) is not None

    await env.advance_time(6 * MINUTE)

    assert bot_posts(room) == []  # its schedule is paused
    [post] = bot_posts(other)  # the other server's, from the same job
    assert post.embeds and post.components


async def test_list_shows_each_schedule_in_words_with_its_next_run(env, room):
    await add(room, channel=room.channel, time="09:00", days="weekdays",
              timezone="europe/berlin")
    await add(room, channel=room.channel, days="30 18 * * 1,3", pack="pretrained-models")
    listed = await room.members[0].slash(room.channel, "schedule list")
    embed = listed.response.embeds[0]
    assert listed.response.ephemeral
    assert embed.title == "🗓️ Scheduled challenges (2/10)"
    first, second = embed.fields
    assert first.name == "#1 · Weekdays at 09:00 (Europe/Berlin)"
    assert second.name == "#2 · Cron `30 18 * * 1,3` (UTC)"
    assert re.search(r"Next: <t:\d+:F> \(<t:\d+:R>\)", first.value)
    # simcord's clock starts on Thursday 1 January 2026 at 00:00 UTC: the next weekday 09:00
    # in Berlin is that very morning, at 08:00 UTC.
    thursday = int(datetime(2026, 1, 1, 8, 0, tzinfo=UTC).timestamp())
    assert f"<t:{thursday}:F>" in first.value
    # cron's 1 and 3 are Monday and Wednesday: the next is Monday 5 January, 18:30 UTC.
    monday = int(datetime(2026, 1, 5, 18, 30, tzinfo=UTC).timestamp())
    assert f"<t:{monday}:F>" in second.value
    assert "pack: " in second.value


async def test_only_admins_change_schedules(env, room):
    refused = await room.members[0].slash(room.channel, "schedule add", channel=room.channel,
                                          time="09:00")
    assert "Manage Server" in refused.response.content
    assert env.errors  # the refusal went through the one error handler, which logged it
    assert await env.bot.tutor.schedules.of_guild(room.guild.id) == []


async def test_bad_input_is_refused_with_what_to_type(env, room):
    cases = {
        ("25:00", None, None): "HH:MM",
        ("09:00", "someday", None): "I don't know the day",
        ("09:00", None, "Europe/Berln"): "Did you mean Europe/Berlin",
        (None, "*/10 * * * *", None): "at most once an hour",
        (None, "weekdays", None): "Say when",
        ("09:00", "0 9 * * 1", None): "leave `time` out",
    }
    for (time, days, zone), expected in cases.items():
        options = {k: v for k, v in {"time": time, "days": days, "timezone": zone}.items() if v}
        reply = await add(room, channel=room.channel, **options)
        assert expected in reply.response.content, (options, reply.response.content)
        assert reply.response.ephemeral
    assert await env.bot.tutor.schedules.of_guild(room.guild.id) == []


async def test_at_most_ten_schedules_per_server(env, room):
    for hour in range(10):
        reply = await add(room, channel=room.channel, time=f"{hour:02d}:00")
        assert "✅" in reply.response.content
    eleventh = await add(room, channel=room.channel, time="11:00")
    assert "already has 10 schedules" in eleventh.response.content
    assert len(await env.bot.tutor.schedules.of_guild(room.guild.id)) == 10


async def test_pause_resume_and_remove(env, room, scheduler_on_bot_clock):
    await add(room, channel=room.channel, time="00:05")
    paused = await room.admin.slash(room.channel, "schedule pause", id=1)
    assert "paused" in paused.response.content
    await env.advance_time(6 * MINUTE)
    assert bot_posts(room) == []  # paused: no post
    listed = await room.admin.slash(room.channel, "schedule list")
    assert f"⏸️ Paused: <@{room.admin.id}> paused it" in listed.response.embeds[0].fields[0].value

    resumed = await room.admin.slash(room.channel, "schedule resume", id=1)
    assert "runs again" in resumed.response.content
    assert env.bot.tutor.rhythm.job_for(1) is not None
    removed = await room.admin.slash(room.channel, "schedule remove", id=1)
    assert "is removed" in removed.response.content
    assert env.bot.tutor.rhythm.job_for(1) is None
    missing = await room.admin.slash(room.channel, "schedule pause", id=1)
    assert "no schedule #1" in missing.response.content


async def test_another_servers_schedule_cannot_be_touched(env, room):
    await add(room, channel=room.channel, time="09:00")
    other = env.create_guild("Other")
    channel = other.create_text_channel("quiz")
    owner = other.add_member(env.create_user("mallory"),
                             roles=[other.create_role("Admin", permissions=discord.Permissions(
                                 manage_guild=True))])
    reply = await owner.slash(channel, "schedule remove", id=1)
    assert "no schedule #1" in reply.response.content
    assert len(await env.bot.tutor.schedules.of_guild(room.guild.id)) == 1


async def test_a_run_posts_once_however_often_it_fires(env, room):
    await add(room, channel=room.channel, time="00:05")
    schedule = await only_schedule(env, room)
    rhythm = env.bot.tutor.rhythm
    first = await rhythm.run_schedule(schedule, at(env, "00:05"))
    second = await rhythm.run_schedule(schedule, at(env, "00:05"))
    assert (first.code, second.code) == ("posted", "duplicate")
    assert len(bot_posts(room)) == 1


async def test_a_restart_in_the_fire_minute_does_not_post_twice(env, room, make_bot,
                                                                  scheduler_on_bot_clock):
    await add(room, channel=room.channel, time="00:05")
    await env.advance_time(5 * MINUTE + 20)  # fired at 00:05:00
    assert len(bot_posts(room)) == 1
    await restart(env, make_bot)  # back at 00:05:20, inside the grace period
    await env.advance_time(1)
    assert len(bot_posts(room)) == 1
    assert env.bot.tutor.rhythm.job_for(1) is not None


async def test_runs_missed_while_down_post_once_within_the_grace_period(
        env, room, make_bot, scheduler_on_bot_clock):
    await add(room, channel=room.channel, time="00:05")
    await env.bot.tutor.rhythm.close()  # the bot goes down before its first run
    await env.advance_time(3 * 86400 + 10 * MINUTE)  # three days: four runs missed, the last
    await restart(env, make_bot)                     # one 5 minutes ago
    await env.advance_time(1)
    assert len(bot_posts(room)) == 1  # one catch-up post, not four
    schedule = await only_schedule(env, room)
    assert schedule.last_fire_at == at(env, "00:05")


async def test_runs_missed_beyond_the_grace_period_are_skipped_and_logged(
        env, room, make_bot, caplog, scheduler_on_bot_clock):
    await add(room, channel=room.channel, time="00:05")
    await env.bot.tutor.rhythm.close()
    await env.advance_time(86400 + 30 * MINUTE)  # the last run was 25 minutes ago
    caplog.set_level(logging.INFO, logger="bot.ui.rhythm")
    await restart(env, make_bot)
    await env.advance_time(1)
    assert bot_posts(room) == []
    assert "2 run(s) missed while the bot was down are skipped" in caplog.text


async def test_a_busy_channel_skips_the_run_with_a_note(env, room, caplog):
    await add(room, channel=room.channel, time="00:05")
    await room.members[0].slash(room.channel, "challenge")
    caplog.set_level(logging.INFO, logger="bot.ui.rhythm")
    outcome = await env.bot.tutor.rhythm.run_schedule(await only_schedule(env, room),
                                                      at(env, "00:05"))
    assert outcome.code == "busy"
    assert len(bot_posts(room)) == 1  # only the member's own challenge
    assert "skipped: challenge" in caplog.text
    listed = await room.admin.slash(room.channel, "schedule list")
    assert "skipped: a challenge was still running" in listed.response.embeds[0].fields[0].value


async def test_a_deleted_channel_pauses_the_schedule(env, room):
    spare = room.guild.create_text_channel("evening-quiz")
    await room.admin.slash(room.channel, "schedule add", channel=spare, time="00:05")
    schedule = await only_schedule(env, room)
    env.backend.delete_channel(spare.id)
    await env.settle()
    outcome = await env.bot.tutor.rhythm.run_schedule(schedule, at(env, "00:05"))
    assert outcome.code == "paused"
    paused = await only_schedule(env, room)
    assert paused.paused_reason == "its channel was deleted"
    assert env.bot.tutor.rhythm.job_for(schedule.id) is None  # no retry loop
    listed = await room.admin.slash(room.channel, "schedule list")
    assert "⏸️ Paused: its channel was deleted" in listed.response.embeds[0].fields[0].value
    resumed = await room.admin.slash(room.channel, "schedule resume", id=schedule.id)
    assert "can't resume" in resumed.response.content


async def test_a_lost_permission_pauses_the_schedule(env, room):
    await add(room, channel=room.channel, time="00:05")
    locked = room.guild.create_text_channel(
        "locked", overwrites={room.guild.me: discord.PermissionOverwrite(send_messages=False)})
    schedule = await only_schedule(env, room)
    refused = await room.admin.slash(room.channel, "schedule add", channel=locked, time="01:00")
    assert "I can't post in" in refused.response.content  # told when adding, too
    moved = type(schedule)(**{**schedule.__dict__, "channel_id": locked.id})
    outcome = await env.bot.tutor.rhythm.run_schedule(moved, at(env, "00:05"))
    assert outcome.code == "paused"
    assert "lacks Send Messages" in (await only_schedule(env, room)).paused_reason


async def test_the_weekly_results_post_by_themselves_once(env, room, make_bot,
                                                          scheduler_on_bot_clock):
    # simcord's clock starts on a Thursday at 00:00 UTC.
    saved = await room.admin.slash(room.channel, "tutor weekly-post", channel=room.channel,
                                   day=3, time="00:05")
    assert "Every Thursday at 00:05 (UTC)" in saved.response.content
    await env.advance_time(6 * MINUTE)
    [post] = bot_posts(room)
    assert post.embeds[0].title.startswith("📅 Weekly results")
    await restart(env, make_bot)  # inside the grace period: the run is on record
    await env.advance_time(1)
    assert len(bot_posts(room)) == 1
    await env.advance_time(7 * 86400)  # and a week later, the next one
    assert len(bot_posts(room)) == 2


async def test_a_stored_zone_the_zone_data_lost_pauses_its_schedule_at_start_up(
        env, room, make_bot, config):
    await add(room, channel=room.channel, time="00:05")
    await add(room, channel=room.channel, time="06:00")
    with sqlite3.connect(config.database_path) as conn:  # as if a tzdata update dropped it
        conn.execute("UPDATE schedules SET timezone = 'Mars/Olympus_Mons' WHERE id = 1")
    await restart(env, make_bot)
    first, second = await env.bot.tutor.schedules.of_guild(room.guild.id)
    assert first.paused_reason.startswith("its timing no longer reads")
    assert second.paused_reason is None
    assert env.bot.tutor.rhythm.job_for(second.id) is not None
