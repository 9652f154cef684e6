"""The bot under simcord's own pytest fixtures (`simcord_env` with our `simcord_bot`).

This is how a contributor tests a new command in a few lines; the bot is released after the
test by the `make_bot` fixture behind `simcord_bot`.
"""

from __future__ import annotations


async def test_a_member_can_use_the_bot_through_simcords_own_fixture(simcord_env):
    await simcord_env.bot.tree.sync()
    guild = simcord_env.create_guild("Study Group")
    channel = guild.create_text_channel("quiz")
    member = guild.add_member(simcord_env.create_user("kim"))
    result = await member.slash(channel, "badges")
    assert result.ephemeral and result.response.embeds[0].title.startswith("🏅 Badges")
