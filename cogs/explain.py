"""Executable explanations: the Why? button on reveals and /explain <problem>."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.bank import Problem
from bot.store.records import Challenge
from bot.ui.explain import WhyButton, explanation_message, progress_text
from bot.worker.backend import ThreadBackend
from bot.worker.explainer import Explainer, ExplainError, Progress, detect_device

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 3.0  # edits of the "running" message, at most this often


class ExplainCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        config = bot.config
        size = config.worker_size
        if size == "auto":
            size = "full" if detect_device() == "cuda" else "cpu"
        self.backend = ThreadBackend()
        self.explainer = Explainer(
            bot.store.explanations, bot.bank, self.backend, size=size,
            timeout_s=config.worker_timeout_s, memory_mb=config.worker_memory_mb,
            cache_dir=config.worker_cache_dir, clock=bot.now)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(WhyButton)
        self.bot.reveal_extras.append(self.why_button_for)

    async def cog_unload(self) -> None:
        self.bot.reveal_extras.remove(self.why_button_for)
        await asyncio.to_thread(self.backend.close)

    def why_button_for(self, challenge: Challenge) -> list[discord.ui.Item[Any]]:
        problem = self.bot.bank.problems.get(challenge.problem_id)
        return [WhyButton(challenge.id)] if problem and problem.experiment else []

    @app_commands.command(name="explain")
    @app_commands.describe(problem="Which problem's experiment to run")
    async def explain(self, interaction: discord.Interaction[TutorBot], problem: str) -> None:
        """Run the real PyTorch code behind a problem and see its output and plots."""
        found = self.bot.bank.problems.get(problem)
        if found is None:
            await interaction.response.send_message("I don't know that problem; pick one from "
                                                    "the list.", ephemeral=True)
            return
        if interaction.guild_id and await self.bot.store.challenges.live_problem(
                interaction.guild_id, found.id):
            await interaction.response.send_message(
                "⏳ That problem is a running challenge here: its explanation unlocks with the "
                "reveal (the **Why? (run it)** button).", ephemeral=True)
            return
        await self.respond(interaction, found)

    @explain.autocomplete("problem")
    async def problem_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                   current: str) -> list[app_commands.Choice[str]]:
        needle = current.lower()
        return [app_commands.Choice(name=p.title[:100], value=p.id)
                for p in self.bot.bank.problems.values()
                if p.experiment and (needle in p.id or needle in p.title.lower())][:25]

    async def respond(self, interaction: discord.Interaction[Any], problem: Problem) -> None:
        """A cached result at once; otherwise defer, show progress, then the output."""
        try:
            hit = await self.explainer.cached(problem)
        except ExplainError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        if hit is not None:
            embed, files = explanation_message(problem, hit)
            await interaction.response.send_message(embed=embed, files=files, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        progress = Progress()
        shower = asyncio.create_task(self.show_progress(interaction, problem, progress))
        try:
            result = await self.explainer.explain(
                problem, member_id=interaction.user.id, guild_id=interaction.guild_id or 0,
                progress=progress, wait=self.bot.wait_external)
        except ExplainError as exc:
            await interaction.edit_original_response(content=f"😕 {exc}")
            return
        finally:
            shower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await shower
        embed, files = explanation_message(problem, result)
        # The output replaces the "running" message: one message per press, not two.
        await interaction.edit_original_response(content=None, embed=embed, attachments=files)

    async def show_progress(self, interaction: discord.Interaction[Any], problem: Problem,
                            progress: Progress) -> None:
        shown = ""
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            text = progress_text(problem, progress)
            if text != shown:
                shown = text
                try:
                    await interaction.edit_original_response(content=text)
                except discord.HTTPException as exc:
                    log.debug("progress edit failed: %s", exc)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(ExplainCog(bot))
