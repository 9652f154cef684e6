"""The public life of a challenge post: posting it, keeping "N answered" fresh, revealing it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import discord

from bot.bank import Problem
from bot.core.challenge import policy_of
from bot.core.scoring import hint_cost
from bot.core.service import ChallengeService
from bot.core.settings import SettingsService
from bot.pacing import PacedSender, Reservation
from bot.shards import OwnedChallenges
from bot.store.records import Challenge, Reveal
from bot.tasks import AnsweredCounter, Clock, DeadlineTimers, TaskGroup, every
from bot.ui.challenge import challenge_embed, challenge_view, reveal_embed
from bot.ui.replies import permission_label

log = logging.getLogger(__name__)

# What the bot needs in a channel to post a challenge and reveal it later.
REQUIRED_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history")
REVEAL_RETRY_S = 30.0

ChannelGetter = Callable[[int, int], discord.PartialMessageable]  # (channel id, guild id)
ExtraItems = Callable[[Challenge], Sequence[discord.ui.Item[Any]]]


def missing_permissions(channel: Any, me: discord.Member) -> list[str]:
    granted = channel.permissions_for(me)
    return [name for name in REQUIRED_PERMISSIONS if not getattr(granted, name)]


def permission_names(names: list[str]) -> str:
    return ", ".join(f"**{permission_label(n)}**" for n in names)


def embed_for(challenge: Challenge, problem: Problem) -> discord.Embed:
    return challenge_embed(challenge, problem, hint_cost(challenge.difficulty,
                                                         policy_of(challenge)))


class ChallengePoster:
    """Owns every challenge post: its reveal timer, its "N answered" edits, and its reveal.

    Built in setup_hook from explicit parts; it never sees the bot itself.
    """

    def __init__(self, service: ChallengeService, settings: SettingsService, clock: Clock,
                 timers: DeadlineTimers, counter: AnsweredCounter, channel: ChannelGetter,
                 pacer: PacedSender, owned: OwnedChallenges,
                 reveal_extras: Sequence[ExtraItems] = ()) -> None:
        self.service, self.settings, self.clock = service, settings, clock
        self.timers, self.counter, self.channel = timers, counter, channel
        self.pacer = pacer  # every post and edit below is one paced REST call
        # The challenges whose reveals this process runs: its own shards' servers.
        self.owned = owned
        self.reveal_extras = tuple(reveal_extras)  # e.g. the "Why? (run it)" button
        self._revealing: set[int] = set()  # reveals being shown right now
        self._sweeping = TaskGroup("sweep")

    async def post(self, channel: discord.abc.Messageable, challenge: Challenge,
                   problem: Problem, *, ping: discord.abc.Snowflake | None = None,
                   urgent: bool = True,
                   reservation: Reservation | None = None) -> discord.Message:
        """Posts the challenge and arms its reveal here if this process owns its server (the
        owner's sweep arms it otherwise); the row exists before the buttons do.

        A member's /challenge is urgent; a scheduled post waits behind it, and brings the
        turn it reserved before opening the challenge. `ping` is the one role the post may
        mention (a role or, from a process that doesn't run its server, just its id).
        """
        mentions = discord.AllowedMentions(everyone=False, users=False,
                                           roles=[ping] if ping else False)

        def send() -> Awaitable[discord.Message]:
            return channel.send(f"<@&{ping.id}>" if ping else None,
                                embed=embed_for(challenge, problem),
                                view=challenge_view(challenge), allowed_mentions=mentions)

        message = await (reservation.run(send) if reservation is not None
                         else self.pacer.run(send, urgent=urgent))
        await self.service.attach_message(challenge.id, message.id)
        if self.owned.ownership.owns(challenge.guild_id):
            self.arm_reveal(challenge.id, challenge.deadline)
        return message

    def arm_reveal(self, challenge_id: int, at: float) -> None:
        self.timers.arm(challenge_id, at, partial(self.reveal, challenge_id))

    async def restore(self) -> None:
        """At start-up: re-arms every open challenge of this process's servers (overdue
        ones reveal at once) and redoes reveals that a crash or a failed edit left unshown."""
        open_ones = await self.owned.open()
        for challenge_id, deadline in open_ones:
            self.arm_reveal(challenge_id, deadline)
        unfinished = await self.owned.unrevealed()
        for challenge_id in unfinished:
            self.arm_reveal(challenge_id, self.clock())
        log.info("restored %d open challenges and %d unfinished reveals", len(open_ones),
                 len(unfinished))

    def sweep_every(self, interval: float) -> None:
        """Arms, every `interval` seconds, the reveals of challenges another process opened
        in this process's servers (the schedule leader posts for every server)."""
        self._sweeping.start("sweep", every(interval, self.sweep))

    async def sweep(self) -> int:
        """Arms the open challenges of this process's servers that have no timer here yet;
        how many it armed. Arming one twice is harmless: a reveal closes it exactly once."""
        open_ones = await self.owned.open()
        armed = self.timers.armed  # read after the query: what was armed meanwhile counts
        fresh = [(challenge_id, deadline) for challenge_id, deadline in open_ones
                 if challenge_id not in armed and challenge_id not in self._revealing]
        for challenge_id, deadline in fresh:
            self.arm_reveal(challenge_id, deadline)
        if fresh:
            log.info("armed the reveals of %d challenges opened elsewhere", len(fresh))
        return len(fresh)

    def answered(self, challenge_id: int) -> None:
        """A new answer landed: the post's "N answered" line is due for an edit."""
        self.counter.touch(challenge_id, partial(self.refresh, challenge_id))

    async def refresh(self, challenge_id: int) -> None:
        challenge = await self.service.get(challenge_id)
        message = self._message_of(challenge)
        if message is None or challenge.closed_at is not None:
            return
        embed = embed_for(challenge, self.service.problem_of(challenge))
        await self.pacer.run(lambda: message.edit(embed=embed))

    async def reveal(self, challenge_id: int) -> None:
        """Closes the challenge (exactly once) and turns its post into the reveal.

        The reveal counts as shown only once the edit succeeded; a failed edit is retried,
        and one interrupted by a restart is redone at start-up.
        """
        if challenge_id in self._revealing:  # the timer and /challenge-stop may meet here
            return
        self._revealing.add(challenge_id)
        try:
            summary = await self.service.unshown_reveal(challenge_id, self.clock())
            if summary is not None:
                await self._show(summary)
        finally:
            self._revealing.discard(challenge_id)

    async def _show(self, summary: Reveal) -> None:
        challenge = summary.challenge
        self.counter.forget(challenge.id)
        message = self._message_of(challenge)
        if message is None:  # never posted (a failed post, or the terminal's practice)
            await self.service.mark_revealed(challenge.id, self.clock())
            return
        problem = self.service.problem_of(challenge)
        try:
            embeds, view = self._reveal_embeds(summary, problem), self._closed_view(challenge)
            await self.pacer.run(lambda: message.edit(embeds=embeds, view=view), urgent=True)
        except (discord.NotFound, discord.Forbidden) as exc:  # deleted, or access lost
            log.warning("challenge %d cannot be revealed in channel %d: %s", challenge.id,
                        challenge.channel_id, exc)
        except discord.HTTPException as exc:
            log.warning("revealing challenge %d failed (%s); retrying in %.0f s", challenge.id,
                        exc, REVEAL_RETRY_S)
            self.arm_reveal(challenge.id, self.clock() + REVEAL_RETRY_S)
            return
        else:
            await self._open_discussion(challenge, message, problem)
        await self.service.mark_revealed(challenge.id, self.clock())

    def _reveal_embeds(self, summary: Reveal, problem: Problem) -> list[discord.Embed]:
        badges = [(member, badge) for member, badge_id in summary.badges
                  if (badge := self.service.catalogue.get(badge_id)) is not None]
        return [embed_for(summary.challenge, problem), reveal_embed(summary, problem, badges)]

    def _closed_view(self, challenge: Challenge) -> discord.ui.View:
        extras = [item for make in self.reveal_extras for item in make(challenge)]
        return challenge_view(challenge, closed=True, extras=extras)

    def _message_of(self, challenge: Challenge) -> discord.PartialMessage | None:
        if challenge.message_id is None:
            return None
        channel = self.channel(challenge.channel_id, challenge.guild_id)
        return channel.get_partial_message(challenge.message_id)

    async def _open_discussion(self, challenge: Challenge, message: discord.PartialMessage,
                               problem: Problem) -> None:
        if not (await self.settings.of(challenge.guild_id)).discussion_thread:
            return
        try:
            await self.pacer.run(lambda: message.create_thread(name=f"💬 {problem.title}"[:100]),
                                 urgent=True)
        except discord.HTTPException as exc:
            log.warning("could not open a thread for challenge %d: %s", challenge.id, exc)

    async def close(self) -> None:
        """Stops every timer and pending edit; the database keeps what they would redo."""
        await self._sweeping.close()
        await self.counter.close()
        await self.timers.close()
