"""The schedule leader in simcord: leaders handing over, or two at once, never post a run
twice, and the leader follows schedule changes made in other processes."""

from __future__ import annotations

import asyncio

from bot.ui.rhythm import Rhythm
from tests.bot.test_schedules import (
    MINUTE,
    add,
    at,
    bot_posts,
    only_schedule,
    scheduler_on_bot_clock,
)

__all__ = ["scheduler_on_bot_clock"]  # a fixture the tests below use


def another_leader(env) -> Rhythm:
    """The rhythm of another process, on the same database."""
    bot, tutor = env.bot, env.bot.tutor
    return Rhythm(schedules=tutor.schedules, challenges=tutor.challenges,
                  settings=tutor.settings, poster=tutor.poster, pacer=tutor.pacer,
                  clock=tutor.clock, guild=bot.get_guild, ready=bot.wait_until_ready,
                  owns=bot.ownership.owns)


async def finished(rhythm: Rhythm) -> None:
    """Until the rhythm's background work (catch-up, changes) is done."""
    await asyncio.gather(*rhythm.tasks.tasks.values())


async def test_leaders_handing_over_or_firing_together_post_each_run_once(
        env, room, scheduler_on_bot_clock):
    await add(room, channel=room.channel, time="00:05")
    await env.advance_time(6 * MINUTE)  # the first leader posts the 00:05 run
    assert len(bot_posts(room)) == 1
    first = env.bot.tutor.rhythm
    await first.stop()  # it loses the lock
    assert first.job_for(1) is None
    successor = another_leader(env)
    await successor.start()  # its catch-up finds the 00:05 run within the grace period
    await finished(successor)
    assert successor.job_for(1) is not None
    assert len(bot_posts(room)) == 1  # claimed already: not posted again

    # For a moment both may believe they lead: the next run is fired by both at once.
    await env.advance_time(3 * MINUTE)  # the first run's challenge is over
    schedule, tomorrow = await only_schedule(env, room), at(env, "00:05") + 86400
    outcomes = await asyncio.gather(first.run_schedule(schedule, tomorrow),
                                    successor.run_schedule(schedule, tomorrow))
    assert sorted(o.code for o in outcomes) == ["duplicate", "posted"]
    assert len(bot_posts(room)) == 2
    await successor.close()


async def test_the_leader_follows_changes_announced_from_other_processes(env, room):
    tutor = env.bot.tutor
    schedule = await tutor.schedules.add(  # as another process's /schedule add would
        guild_id=room.guild.id, channel_id=room.channel.id, time_text="09:00",
        days_text=None, timezone="UTC", pack=None, difficulty=None, kind=None,
        ping_role_id=None, created_by=room.admin.id)
    assert tutor.rhythm.job_for(schedule.id) is None
    tutor.rhythm.changed_elsewhere(f"schedule:{schedule.id}")
    await finished(tutor.rhythm)
    assert tutor.rhythm.job_for(schedule.id) is not None

    await tutor.schedules.pause(room.guild.id, schedule.id, "paused elsewhere")
    tutor.rhythm.changed_elsewhere(f"schedule:{schedule.id}")
    await finished(tutor.rhythm)
    assert tutor.rhythm.job_for(schedule.id) is None

    await tutor.rhythm.stop()  # a process that doesn't lead keeps no jobs
    await tutor.schedules.resume(room.guild.id, schedule.id)
    tutor.rhythm.changed_elsewhere(f"schedule:{schedule.id}")
    await finished(tutor.rhythm)
    assert tutor.rhythm.job_for(schedule.id) is None
