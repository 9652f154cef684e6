"""Executable explanations: /explain <problem> (the Why? button lives with the reveal)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.ui.explain import send_explanation

log = logging.getLogger(__name__)
PROBLEM_OPTION_MAX = 100  # characters; problem ids are at most 48


class ExplainCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.tutor = bot.tutor

    @app_commands.command(name="explain")
    @app_commands.describe(problem="Which problem's experiment to run")
    async def explain(self, interaction: discord.Interaction[TutorBot],
                      problem: app_commands.Range[str, 1, PROBLEM_OPTION_MAX]) -> None:
        """Run the real PyTorch code behind a problem and see its output and plots."""
        found = self.tutor.bank.problems.get(problem)
        if found is None:
            await interaction.response.send_message("I don't know that problem; pick one from "
                                                    "the list.", ephemeral=True)
            return
        if interaction.guild_id and await self.tutor.challenges.is_running(
                interaction.guild_id, found.id):
            await interaction.response.send_message(
                "⏳ That problem is a running challenge here: its explanation unlocks with the "
                "reveal (the **Why? (run it)** button).", ephemeral=True)
            return
        await send_explanation(interaction, self.tutor, found)

    @explain.autocomplete("problem")
    async def problem_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                   current: str) -> list[app_commands.Choice[str]]:
        needle = current.lower()[:PROBLEM_OPTION_MAX]
        return [app_commands.Choice(name=p.title[:100], value=p.id)
                for p in self.tutor.bank.problems.values()
                if p.experiment and (needle in p.id or needle in p.title.lower())][:25]


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(ExplainCog(bot))
