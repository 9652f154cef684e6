"""/tutor weekly-post in simcord, and how the weekly results post looks."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.core.rules import catalogue_for
from bot.core.weekly import Improvement, MissedProblem, Standing, WeeklyReport
from bot.ui.weekly import QUIET, week_span, weekly_embed, weekly_post
from tests.bot.helpers import answer_id, challenge_id, key_of
from tests.bot.limits import embed_problems, over_discord_limits
from tests.factories import bank as make_bank

DAY = 86_400
BERLIN = ZoneInfo("Europe/Berlin")


async def weekly(room, member=None, **options):
    return await (member or room.admin).slash(room.channel, "tutor weekly-post", **options)


async def weekly_settings(env, room):
    settings = await env.bot.tutor.settings.of(room.guild.id)
    return settings.weekly_channel_id, settings.weekly_day, settings.weekly_time


def weekly_job(env, room):
    return env.bot.tutor.rhythm.scheduler.get_job(f"weekly:{room.guild.id}")


async def test_an_admin_turns_it_on_and_is_told_when_the_next_post_is(env, room):
    await env.bot.tutor.settings.change(room.guild.id, timezone="Europe/Berlin")
    reply = await weekly(room, channel=room.channel, day=0, time="9:00")
    text = reply.response.content
    assert reply.ephemeral and f"<#{room.channel.id}>" in text
    assert "Every Monday at 09:00 (Europe/Berlin); next <t:" in text
    next_at = int(re.search(r"next <t:(\d+):F>", text).group(1))
    local = datetime.fromtimestamp(next_at, BERLIN)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert 0 < next_at - env.now().timestamp() <= 7 * DAY
    assert await weekly_settings(env, room) == (room.channel.id, 0, "09:00")
    assert weekly_job(env, room) is not None  # the scheduler was told


async def test_changing_only_the_time_keeps_the_channel_and_the_day(env, room):
    await weekly(room, channel=room.channel, day=4, time="18:00")
    reply = await weekly(room, time="07:30")
    assert "Every Friday at 07:30 (UTC)" in reply.response.content
    assert await weekly_settings(env, room) == (room.channel.id, 4, "07:30")


async def test_a_time_that_is_not_hh_mm_is_refused_and_nothing_is_saved(env, room):
    reply = await weekly(room, channel=room.channel, day=0, time="25:00")
    assert reply.ephemeral and "HH:MM" in reply.response.content
    assert await weekly_settings(env, room) == (None, None, None)
    assert weekly_job(env, room) is None


async def test_members_without_manage_server_are_refused(env, room):
    synced = await env.bot.tree.fetch_commands()
    room.guild.set_command_permissions(next(c for c in synced if c.name == "tutor"),
                                       {room.guild.default_role: True})
    refused = await weekly(room, room.members[0], channel=room.channel, day=0, time="09:00")
    assert refused.ephemeral and "Manage Server" in refused.response.content
    assert env.errors  # refused by the one error handler, which logged it
    assert await weekly_settings(env, room) == (None, None, None)


async def test_off_turns_it_off(env, room):
    await weekly(room, channel=room.channel, day=2, time="12:00")
    reply = await weekly(room, off=True)
    assert reply.ephemeral and "weekly results post is off" in reply.response.content
    assert await weekly_settings(env, room) == (None, None, None)
    assert weekly_job(env, room) is None


async def test_without_options_it_shows_the_setting(env, room):
    assert "is off" in (await weekly(room)).response.content
    await weekly(room, channel=room.channel, day=6, time="20:00")
    assert "Every Sunday at 20:00 (UTC)" in (await weekly(room)).response.content


async def test_a_channel_the_bot_cannot_post_in_is_refused(env, room):
    locked = room.guild.create_text_channel(
        "locked", overwrites={room.guild.me: discord.PermissionOverwrite(embed_links=False)})
    reply = await weekly(room, channel=locked, day=0, time="09:00")
    assert reply.ephemeral and "**Embed Links**" in reply.response.content
    assert await weekly_settings(env, room) == (None, None, None)


async def test_the_post_shows_the_week_without_pinging_anyone(env, room):
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    key = await key_of(env, post)
    for member in room.members[:2]:
        await member.click(post, custom_id=answer_id(post, key))
    await room.members[2].click(post, custom_id=answer_id(post, "A" if key != "A" else "B"))
    await room.admin.slash(room.channel, "challenge-stop")
    tutor = env.bot.tutor
    settings = await tutor.settings.of(room.guild.id)
    render = weekly_post(tutor.weekly, tutor.bank, tutor.challenges.catalogue)
    embed = await render(settings, env.now().timestamp() + 60)
    # Sent as the scheduler sends it.
    await env.bot.get_channel(room.channel.id).send(
        embed=embed, allowed_mentions=discord.AllowedMentions.none())

    shown = room.post().embeds[0]
    assert shown.title.startswith("📅 Weekly results · ")
    assert shown.description == "**1** challenge · **3** members answered"
    fields = {f.name: f.value for f in shown.fields}
    for member in room.members[:2]:
        assert f"<@{member.id}>" in fields["🏆 Top 10"]
        assert "👣 First Step" in fields["🏅 Badges earned"]
    problem = (await tutor.challenges.get(challenge_id(post))).problem_id
    assert f"**{tutor.bank.problems[problem].title}**" in fields["🤔 Missed most"]
    assert "2 of 3 got it right (67%)" in fields["🤔 Missed most"]
    assert over_discord_limits(env) == []
    sent = env.http_requests[-1].json
    assert sent["allowed_mentions"] == {"parse": []}


def report(**fields) -> WeeklyReport:
    end = datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN).timestamp()  # a Monday, midnight
    return WeeklyReport(guild_id=1, zone="Europe/Berlin", start=end - 7 * DAY, end=end,
                        **fields)


def test_an_empty_week_is_a_friendly_quiet_post():
    embed = weekly_embed(report(), make_bank(), catalogue())
    assert embed.title == "📅 Weekly results · 23–29 Nov"
    assert embed.description == QUIET and not embed.fields
    assert embed.footer.text == "Mon 23 Nov 00:00 – Mon 30 Nov 00:00 (Europe/Berlin)"


def test_a_week_across_months_or_years_names_both():
    assert week_span(datetime(2026, 11, 28).date(), datetime(2026, 12, 4).date()) == \
        "28 Nov – 4 Dec"
    assert week_span(datetime(2026, 12, 29).date(), datetime(2027, 1, 4).date()) == \
        "29 Dec 2026 – 4 Jan 2027"


def test_a_crowded_week_stays_within_discord_limits():
    big = 10**19 - 1  # the longest member ids
    crowded = report(
        top=tuple(Standing(i + 1, big - i, 10**9 - i) for i in range(10)),
        improved=tuple(Improvement(big - i, 10**9, 0) for i in range(3)),
        badges=tuple((big - i, f"pack:{'x' * 60}{i}") for i in range(500)),
        missed_most=MissedProblem("gone-" + "y" * 95, answered=10**6, right=1),
        challenges=10**6, members=10**6)
    embed = weekly_embed(crowded, make_bank(), catalogue())
    problems, total = embed_problems(embed.to_dict())
    assert problems == [] and total <= 6000
    fields = {f.name: f.value for f in embed.fields}
    assert "… and 485 more" in fields["🏅 Badges earned"]
    assert "(no longer in the question bank)" in fields["🤔 Missed most"]
    assert "`gone-yyy" in fields["🤔 Missed most"]


def catalogue():
    return catalogue_for(make_bank())
