"""/export: the server's attempts as a CSV file, for organisers."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.core.export import ExportTooBig, NothingToExport
from bot.core.periods import Period
from bot.ui.export import exported_reply, nothing_reply, too_big_reply
from cogs.stats import PERIOD_CHOICES

log = logging.getLogger(__name__)


class ExportCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.tutor = bot.tutor

    @app_commands.command(name="export")
    @app_commands.guild_only()
    @app_commands.checks.cooldown(1, 30.0, key=lambda i: i.guild_id)
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(period="Which period (default: all time)")
    @app_commands.choices(period=PERIOD_CHOICES)
    async def export(self, interaction: discord.Interaction[TutorBot],
                     period: str = Period.ALL.value) -> None:
        """Every attempt in this server as a CSV file (Manage Server)."""
        assert interaction.guild_id is not None
        chosen = Period(period)
        # Some seconds for a big server: answer "thinking" now, the file follows.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            async with self.tutor.exports.exported(interaction.guild_id, chosen) as export:
                await interaction.followup.send(
                    exported_reply(export, chosen), ephemeral=True,
                    file=discord.File(export.path, filename=export.filename))
            log.info("guild %s exported %s by %s: %d rows", interaction.guild_id,
                     chosen.value, interaction.user.id, export.rows)
        except NothingToExport:
            await interaction.followup.send(nothing_reply(chosen), ephemeral=True)
        except ExportTooBig as exc:
            log.info("export of guild %s (%s) too big: %d rows", interaction.guild_id,
                     chosen.value, exc.rows)
            await interaction.followup.send(too_big_reply(exc), ephemeral=True)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(ExportCog(bot))
