"""Posting a challenge, keeping its "N answered" line fresh, and revealing it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.bank import Problem
from bot.core.challenge import policy_of
from bot.core.scoring import hint_cost
from bot.store.records import Challenge, Reveal
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


REVEAL_RETRY_S = 30.0


async def publish_reveal(bot: TutorBot, challenge_id: int) -> None:
    """Closes the challenge (exactly once) and turns its post into the reveal.

    The reveal counts as shown only once the edit succeeded; a failed edit is retried, and
    one interrupted by a restart is redone at start-up.
    """
    if challenge_id in bot.revealing:  # the timer and /challenge-stop may meet here
        return
    bot.revealing.add(challenge_id)
    try:
        reveal = await bot.service.close_for_reveal(challenge_id, bot.now())
        if reveal is not None:
            await show_reveal(bot, reveal)
    finally:
        bot.revealing.discard(challenge_id)


async def show_reveal(bot: TutorBot, reveal: Reveal) -> None:
    challenge = reveal.challenge
    bot.answered.forget(challenge.id)
    message = message_of(bot, challenge)
    if message is None:  # never posted (a failed post, or the terminal's practice)
        await bot.service.mark_revealed(challenge.id, bot.now())
        return
    problem = bot.service.problem_of(challenge)
    badges = [(member, badge) for member, badge_id in reveal.badges
              if (badge := bot.service.catalogue.get(badge_id)) is not None]
    extras = [item for make in bot.reveal_extras for item in make(challenge)]
    try:
        await message.edit(embeds=[embed_for(challenge, problem),
                                   reveal_embed(reveal, problem, badges)],
                           view=challenge_view(challenge, closed=True, extras=extras))
    except (discord.NotFound, discord.Forbidden) as exc:  # deleted, or access lost: give up
        log.warning("challenge %d cannot be revealed in channel %d: %s", challenge.id,
                    challenge.channel_id, exc)
    except discord.HTTPException as exc:
        log.warning("revealing challenge %d failed (%s); retrying in %.0f s", challenge.id, exc,
                    REVEAL_RETRY_S)
        bot.reveals.arm(challenge.id, bot.now() + REVEAL_RETRY_S)
        return
    else:
        await open_discussion(bot, challenge, message, problem)
    await bot.service.mark_revealed(challenge.id, bot.now())


async def open_discussion(bot: TutorBot, challenge: Challenge, message: discord.PartialMessage,
                          problem: Problem) -> None:
    settings = await bot.store.settings.get(challenge.guild_id)
    if not settings.discussion_thread:
        return
    try:
        await message.create_thread(name=f"💬 {problem.title}"[:100])
    except discord.HTTPException as exc:
        log.warning("could not open a thread for challenge %d: %s", challenge.id, exc)
