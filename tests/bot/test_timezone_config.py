"""/tutor config timezone: the server's zone, which today, this week and this month follow."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord
import pytest
import simcord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.zones import zone_names
from tests.bot.helpers import answer_id, key_of
from tests.bot.limits import over_discord_limits

# simcord's clock starts on Thursday 1 January 2026 at 00:00 UTC: 19:00 on New Year's Eve
# in New York.


async def config(room, member=None, **options):
    return await (member or room.admin).slash(room.channel, "tutor config", **options)


async def zone_of(env, room) -> str:
    return (await env.bot.tutor.settings.of(room.guild.id)).timezone


def fields(reply) -> dict[str, str]:
    return {f.name: f.value for f in reply.response.embeds[0].fields}


def wall(env, zone: str) -> str:
    return f"{datetime.fromtimestamp(env.now().timestamp(), ZoneInfo(zone)):%H:%M}"


async def test_the_zone_is_utc_until_an_admin_changes_it(env, room):
    shown = await config(room)
    assert shown.response.content == "Current settings:"
    assert fields(shown)["Time zone"] == f"UTC (now {wall(env, 'UTC')})"


async def test_an_admin_sets_the_zone_in_any_case_and_sees_its_local_time(env, room):
    saved = await config(room, timezone="europe/berlin")
    assert saved.ephemeral and saved.response.content == "✅ Saved."
    assert fields(saved)["Time zone"] == f"Europe/Berlin (now {wall(env, 'Europe/Berlin')})"
    assert wall(env, "Europe/Berlin") != wall(env, "UTC")
    assert await zone_of(env, room) == "Europe/Berlin"


async def test_an_unknown_zone_is_refused_with_suggestions_and_nothing_changes(env, room):
    refused = await config(room, timezone="Berln", hint_cost=50)
    text = refused.response.content
    assert refused.ephemeral and "Did you mean Europe/Berlin" in text
    assert "IANA name" in text and not refused.response.embeds
    settings_now = await env.bot.tutor.settings.of(room.guild.id)
    assert (settings_now.timezone, settings_now.hint_cost_percent) == ("UTC", 25)


async def test_the_refusal_never_echoes_what_was_typed(env, room):
    refused = await config(room, timezone="@everyone **Berlin** <@1>")
    text = refused.response.content
    assert "I don't know that time zone" in text
    assert "@everyone" not in text and "**" not in text and "<@" not in text


async def test_a_member_without_manage_server_cannot_change_the_zone(env, room):
    synced = await env.bot.tree.fetch_commands()
    room.guild.set_command_permissions(next(c for c in synced if c.name == "tutor"),
                                       {room.guild.default_role: True})
    refused = await config(room, room.members[0], timezone="Asia/Tokyo")
    assert refused.ephemeral and "Manage Server" in refused.response.content
    assert env.errors  # through the one error handler, which logged it
    assert await zone_of(env, room) == "UTC"


@pytest.mark.parametrize(("typed", "first"), [("new york", "America/New_York"),
                                              ("berlin", "Europe/Berlin"),
                                              ("Europe/Berln", "Europe/Berlin")])
async def test_autocomplete_offers_matching_zones(env, room, typed, first):
    choices = await room.admin.autocomplete(room.channel, "tutor config", "timezone", typed)
    assert choices[0] == {"name": first, "value": first}
    assert len(choices) <= 25 and {c["value"] for c in choices} <= set(zone_names())


async def test_autocomplete_of_nothing_offers_common_zones(env, room):
    choices = await room.admin.autocomplete(room.channel, "tutor config", "timezone", "")
    assert 0 < len(choices) <= 25 and {"name": "UTC", "value": "UTC"} in choices


async def test_todays_leaderboard_is_read_in_the_zone_in_force(env, room):
    member = room.members[0]
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    await member.click(post, custom_id=answer_id(post, await key_of(env, post)))

    async def today() -> discord.Embed:
        board = await member.slash(room.channel, "leaderboard", period="today")
        return board.response.embeds[0]

    assert (await today()).description.startswith(f"🥇 <@{member.id}>")  # 1 January in UTC
    await config(room, timezone="America/New_York")
    # In New York it is still 31 December: a day on which nobody answered.
    board = await today()
    assert board.description.startswith("No points in this period yet")
    assert board.footer.text.endswith("days by America/New_York time")
    await room.admin.slash(room.channel, "challenge-stop")
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    await member.click(post, custom_id=answer_id(post, await key_of(env, post)))
    assert (await today()).description.startswith(f"🥇 <@{member.id}>")


async def test_the_weekly_post_follows_a_change_of_zone(env, room):
    await room.admin.slash(room.channel, "tutor weekly-post", channel=room.channel, day=0,
                           time="09:00")
    await config(room, timezone="Asia/Tokyo")
    job = env.bot.tutor.rhythm.scheduler.get_job(f"weekly:{room.guild.id}")
    local = job.next_run_time.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.one_of(st.text(max_size=80),
                       st.sampled_from(["@everyone", "<@&1>", "**bold**", "```", "\u202eevil",
                                        "UTC\n", " asia/tokyo ", "x" * 64])))
async def test_any_typed_zone_gets_a_polite_answer_within_limits(env, room, typed):
    try:
        reply = await config(room, timezone=typed)
    except simcord.OptionError:
        return  # Discord itself refuses it (empty, or over 64 characters)
    assert reply.acknowledged and reply.ephemeral
    assert "@everyone" not in reply.response.content
    assert await zone_of(env, room) in zone_names()
    assert over_discord_limits(env) == []
