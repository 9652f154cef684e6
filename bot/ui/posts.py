"""Posting a challenge, keeping its "N answered" line fresh, and revealing it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.bank import Problem
from bot.core.challenge import policy_of
from bot.core.scoring import hint_cost
from bot.store.records import Challenge
from bot.ui.challenge import challenge_embed, challenge_view, reveal_embed
from bot.ui.replies import permission_label

if TYPE_CHECKING:
    from bot.app import TutorBot

log = logging.getLogger(__name__)

# What the bot needs in a channel to post a challenge and reveal it later.
REQUIRED_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history")


def missing_permissions(channel: Any, me: discord.Member) -> list[str]:
    granted = channel.permissions_for(me)
    return [name for name in REQUIRED_PERMISSIONS if not getattr(granted, name)]


def permission_names(names: list[str]) -> str:
    return ", ".join(f"**{permission_label(n)}**" for n in names)


def embed_for(challenge: Challenge, problem: Problem) -> discord.Embed:
    return challenge_embed(challenge, problem, hint_cost(challenge.difficulty,
                                                         policy_of(challenge)))


async def post_challenge(bot: TutorBot, channel: discord.abc.Messageable, challenge: Challenge,
                         problem: Problem) -> discord.Message:
    """Posts the challenge and arms its reveal; the row exists before the buttons do."""
    message = await channel.send(embed=embed_for(challenge, problem),
                                 view=challenge_view(challenge))
    await bot.store.challenges.set_message(challenge.id, message.id)
    bot.reveals.arm(challenge.id, challenge.deadline)
    return message


def message_of(bot: TutorBot, challenge: Challenge) -> discord.PartialMessage | None:
    if challenge.message_id is None:
        return None
    channel = bot.get_partial_messageable(challenge.channel_id, guild_id=challenge.guild_id)
    return channel.get_partial_message(challenge.message_id)


async def refresh_post(bot: TutorBot, challenge_id: int) -> None:
    challenge = await bot.service.get(challenge_id)
    message = message_of(bot, challenge)
    if message is None or challenge.closed_at is not None:
        return
    await message.edit(embed=embed_for(challenge, bot.service.problem_of(challenge)))


async def publish_reveal(bot: TutorBot, challenge_id: int) -> None:
    """Closes the challenge (exactly once) and turns its post into the reveal."""
    reveal = await bot.service.close(challenge_id, bot.now())
    if reveal is None:
        return  # already closed by someone else (a stop, or another timer)
    bot.answered.forget(challenge_id)
    challenge = reveal.challenge
    problem = bot.service.problem_of(challenge)
    badges = [(member, badge) for member, badge_id in reveal.badges
              if (badge := bot.service.catalogue.get(badge_id)) is not None]
    extras = [item for make in bot.reveal_extras for item in make(challenge)]
    message = message_of(bot, challenge)
    if message is None:
        return
    try:
        await message.edit(embeds=[embed_for(challenge, problem),
                                   reveal_embed(reveal, problem, badges)],
                           view=challenge_view(challenge, closed=True, extras=extras))
    except discord.HTTPException as exc:
        log.warning("could not reveal challenge %d in channel %d: %s", challenge_id,
                    challenge.channel_id, exc)
        return
    await open_discussion(bot, challenge, message, problem)


async def open_discussion(bot: TutorBot, challenge: Challenge, message: discord.PartialMessage,
                          problem: Problem) -> None:
    settings = await bot.store.settings.get(challenge.guild_id)
    if not settings.discussion_thread:
        return
    try:
        await message.create_thread(name=f"💬 {problem.title}"[:100])
    except discord.HTTPException as exc:
        log.warning("could not open a thread for challenge %d: %s", challenge.id, exc)
