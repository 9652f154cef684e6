"""Persistent buttons: their custom ids carry the challenge, so they work after a restart."""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import ChallengeError
from bot.ui.context import Tutor, tutor_of
from bot.ui.replies import answer_reply, error_reply

log = logging.getLogger(__name__)


class ComponentError(app_commands.AppCommandError):
    """Wraps an unexpected error in a button so the tree's one error handler answers it."""

    def __init__(self, item: str, original: Exception) -> None:
        super().__init__(f"button {item} failed: {original!r}")
        self.original = original


class SafeButton(discord.ui.DynamicItem[discord.ui.Button], template=r"tutor:never"):
    """Base of our buttons: rule errors become a private sentence, the rest the error handler."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.handle(interaction, tutor_of(interaction))
        except ChallengeError as exc:
            await interaction.response.send_message(error_reply(exc), ephemeral=True)
        except Exception as exc:  # noqa: BLE001 - handed to the tree's error handler below
            tree = cast(commands.Bot, interaction.client).tree
            await tree.on_error(interaction, ComponentError(self.custom_id, exc))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        raise NotImplementedError


class AnswerButton(SafeButton, template=r"tutor:answer:(?P<cid>\d{1,18}):(?P<choice>[A-E])"):
    def __init__(self, challenge_id: int, choice: str, *,
                 style: discord.ButtonStyle = discord.ButtonStyle.primary,
                 disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label=choice, style=style, disabled=disabled,
            custom_id=f"tutor:answer:{challenge_id}:{choice}"))
        self.challenge_id = challenge_id
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> AnswerButton:
        return cls(int(match["cid"]), match["choice"])

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        result = await tutor.challenges.answer(self.challenge_id, interaction.user.id,
                                               self.choice, tutor.clock(), str(interaction.id),
                                               interaction.user.display_name)
        badges = tutor.challenges.badges(result.new_badges)
        try:
            await interaction.response.send_message(answer_reply(result, badges), ephemeral=True)
        finally:  # the badges are recorded even if the reply fails: so are their roles
            tutor.role_granter.grant_later(interaction.user, result.new_badges)
        if not result.replayed:
            tutor.poster.answered(result.challenge.id)


class HintButton(SafeButton, template=r"tutor:hint:(?P<cid>\d{1,18})"):
    def __init__(self, challenge_id: int, *, disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label="Hint", emoji="💡", style=discord.ButtonStyle.secondary, disabled=disabled,
            custom_id=f"tutor:hint:{challenge_id}"))
        self.challenge_id = challenge_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> HintButton:
        return cls(int(match["cid"]))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        hint = await tutor.challenges.hint(self.challenge_id, interaction.user.id, tutor.clock())
        text = f"💡 **Hint:** {hint.problem.hint}"
        if hint.cost:
            text += f"\n*Seeing it lowers your points on this problem by {hint.cost}.*"
        await interaction.response.send_message(text, ephemeral=True)
