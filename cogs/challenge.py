"""/challenge and /challenge-stop: post a timed problem in the channel, or end it early."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.bank import DIFFICULTIES, KINDS, Problem
from bot.core.errors import ChallengeError
from bot.store.records import Challenge
from bot.ui.choices import PACK_OPTION_MAX, pack_choices
from bot.ui.posts import missing_permissions, permission_names
from bot.ui.replies import error_reply, ts

log = logging.getLogger(__name__)

DIFFICULTY_CHOICES = [app_commands.Choice(name=d.capitalize(), value=d) for d in DIFFICULTIES]
KIND_CHOICES = [app_commands.Choice(name=label, value=kind) for kind, label in KINDS.items()]


class ChallengeCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.tutor = bot.tutor

    @app_commands.command(name="challenge")
    @app_commands.guild_only()
    @app_commands.describe(pack="Which question pack (default: any)",
                           difficulty="Only problems of this difficulty",
                           kind="Only problems of this kind")
    @app_commands.choices(difficulty=DIFFICULTY_CHOICES, kind=KIND_CHOICES)
    async def challenge(self, interaction: discord.Interaction[TutorBot],
                        pack: app_commands.Range[str, 1, PACK_OPTION_MAX] | None = None,
                        difficulty: str | None = None, kind: str | None = None) -> None:
        """Post a timed multiple-choice problem in this channel."""
        assert interaction.guild is not None
        settings = await self.tutor.settings.of(interaction.guild.id)
        channel = self.target_channel(interaction, settings.challenge_channel_id)
        missing = missing_permissions(channel, interaction.guild.me)
        if missing:
            await interaction.response.send_message(
                f"I can't post challenges in {channel.mention}: I need {permission_names(missing)}"
                " there. Ask an admin to grant it.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            problem = await self.tutor.challenges.choose_problem(
                interaction.guild.id, pack=pack, difficulty=difficulty, kind=kind)
            challenge = await self.tutor.challenges.start(
                guild_id=interaction.guild.id, channel_id=channel.id,
                starter_id=interaction.user.id, problem=problem, settings=settings,
                now=self.tutor.clock())
        except ChallengeError as exc:
            await interaction.followup.send(error_reply(exc), ephemeral=True)
            return
        await interaction.followup.send(await self.post(channel, challenge, problem),
                                        ephemeral=True)

    async def post(self, channel: Any, challenge: Challenge, problem: Problem) -> str:
        """Posts the challenge and says where; a post Discord refused is abandoned, so the
        channel is not blocked by a challenge nobody can see."""
        try:
            message = await self.tutor.poster.post(channel, challenge, problem)
        except discord.HTTPException as exc:
            await self.tutor.challenges.abandon(challenge.id, self.tutor.clock())
            return self.post_failure(channel, exc)
        return f"🚀 Challenge posted: {message.jump_url} (ends {ts(challenge.deadline)})."

    @staticmethod
    def post_failure(channel: Any, error: discord.HTTPException) -> str:
        log.warning("posting a challenge in channel %d failed: %s", channel.id, error)
        if isinstance(error, discord.Forbidden):
            return (f"Discord refused my post in {channel.mention}: I need "
                    f"{permission_names(['send_messages', 'embed_links'])} there.")
        return "Discord didn't accept the post just now; please try `/challenge` again."

    @staticmethod
    def target_channel(interaction: discord.Interaction[Any], configured: int | None) -> Any:
        """The server's challenge channel if one is set and still exists, else this one."""
        assert interaction.guild is not None
        chosen = interaction.guild.get_channel(configured) if configured else None
        return chosen or interaction.channel

    @challenge.autocomplete("pack")
    async def pack_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                current: str) -> list[app_commands.Choice[str]]:
        return pack_choices(self.tutor.bank, current)

    @app_commands.command(name="challenge-stop")
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[TutorBot]) -> None:
        """End this channel's challenge now and reveal the answer (starter or admin)."""
        assert interaction.guild is not None and interaction.channel_id is not None
        channels = await self.tutor.settings.challenge_channels(interaction.guild.id,
                                                                interaction.channel_id)
        challenge = await self.tutor.challenges.to_stop(channels, interaction.user.id)
        if challenge is None:
            await interaction.response.send_message("No challenge is running in this channel.",
                                                    ephemeral=True)
            return
        perms = getattr(interaction.user, "guild_permissions", None)
        is_admin = bool(perms and perms.manage_guild)
        try:
            self.tutor.challenges.authorize_stop(challenge, interaction.user.id, is_admin)
        except ChallengeError as exc:
            await interaction.response.send_message(
                f"{error_reply(exc)} It ends by itself {ts(challenge.deadline)}.", ephemeral=True)
            return
        await interaction.response.send_message("⏹️ Stopping the challenge and revealing the "
                                                "answer.", ephemeral=True)
        await self.tutor.poster.reveal(challenge.id)  # its timer then finds nothing to do


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(ChallengeCog(bot))
