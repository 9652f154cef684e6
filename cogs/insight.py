"""/stats problem and /stats pack: how each problem works in this server (Manage Server)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.core.errors import UnknownPack, UnknownProblem
from bot.ui.choices import PACK_OPTION_MAX, pack_choices
from bot.ui.context import Tutor
from bot.ui.insight import pack_embed, problem_choices, problem_embed
from bot.ui.replies import quoted

log = logging.getLogger(__name__)


@app_commands.guild_only()
class InsightGroup(app_commands.Group, name="stats",
                   description="How each problem works in this server (Manage Server)"):
    def __init__(self, bot: TutorBot) -> None:
        super().__init__()
        self.bot = bot

    @property
    def tutor(self) -> Tutor:
        return self.bot.tutor

    @app_commands.command(name="problem")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(id="The problem's id (pick from the list as you type)")
    async def problem(self, interaction: discord.Interaction[TutorBot],
                      id: app_commands.Range[str, 1, PACK_OPTION_MAX]) -> None:
        """Times asked, right answers, picks, time, hints and discrimination (Manage Server)."""
        assert interaction.guild_id is not None
        try:
            item = await self.tutor.insight.problem(interaction.guild_id, id)
        except UnknownProblem:
            await interaction.response.send_message(
                f"🤔 No loaded problem has the id {quoted(id)}. Pick one from the list as you "
                "type.", ephemeral=True)
            return
        log.info("item stats of %s shown in guild %d", item.problem.id, interaction.guild_id)
        await interaction.response.send_message(embed=problem_embed(item), ephemeral=True)

    @app_commands.command(name="pack")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(id="The pack's id (pick from the list as you type)")
    async def pack(self, interaction: discord.Interaction[TutorBot],
                   id: app_commands.Range[str, 1, PACK_OPTION_MAX]) -> None:
        """The figures of every problem of a pack, hardest first (Manage Server)."""
        assert interaction.guild_id is not None
        try:
            stats = await self.tutor.insight.pack(interaction.guild_id, id)
        except UnknownPack:
            await interaction.response.send_message(
                f"🤔 There's no pack called {quoted(id)}. Pick one from the list as you type.",
                ephemeral=True)
            return
        log.info("item stats of pack %s shown in guild %d", stats.pack.id, interaction.guild_id)
        await interaction.response.send_message(embed=pack_embed(stats), ephemeral=True)

    @problem.autocomplete("id")
    async def problem_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                   current: str) -> list[app_commands.Choice[str]]:
        return problem_choices(self.tutor.bank, current)

    @pack.autocomplete("id")
    async def pack_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                current: str) -> list[app_commands.Choice[str]]:
        return pack_choices(self.tutor.bank, current)


class InsightCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.group = InsightGroup(bot)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(InsightCog(bot))
