"""How an explanation run is shown: its output, the answer it derived, and its plots."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import discord

from bot.bank import Bank, Problem
from bot.store.records import Challenge
from bot.ui.buttons import SafeButton
from bot.ui.context import Tutor
from bot.worker.explainer import ExplainError, Explanation, Progress

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 3.0  # edits of the "running" message, at most this often
OUTPUT_LIMIT = 3500  # of the 4,096 an embed description allows, leaving room for the fences


def progress_text(problem: Problem, progress: Progress) -> str:
    step = f" · {progress.label} {progress.step} of {progress.total}" if progress.total else ""
    return f"🔬 Running the experiment behind **{problem.title}**{step}…"


def clip(text: str, limit: int = OUTPUT_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 20].rstrip() + "\n… (cut)"


def safe_filename(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "figure"
    return f"{stem[:40]}.png"


def explanation_message(problem: Problem,
                        result: Explanation) -> tuple[discord.Embed, list[discord.File]]:
    embed = discord.Embed(title=f"🔬 Why? {problem.title}"[:256],
                          description=f"```text\n{clip(result.text)}\n```",
                          colour=discord.Colour.dark_teal())
    if result.answer is not None:
        verdict = "✅ matches the key" if result.answer == problem.answer else \
            f"⚠️ the key says {problem.answer}"
        embed.add_field(name="Answer the run derives", value=f"**{result.answer}** ({verdict})")
    source = "cached run" if result.cached else "fresh run"
    embed.add_field(name="Ran on", value=f"{result.device} · {result.duration_s:.1f} s · {source}")
    files = [discord.File(io.BytesIO(png), filename=safe_filename(name))
             for name, png in result.figures[:4]]
    if files:
        embed.set_image(url=f"attachment://{files[0].filename}")
    return embed, files


async def send_explanation(interaction: discord.Interaction[Any], tutor: Tutor,
                           problem: Problem) -> None:
    """A cached result at once; otherwise defer, show progress, then the output."""
    try:
        hit = await tutor.explainer.cached(problem)
    except ExplainError as exc:
        await interaction.response.send_message(str(exc), ephemeral=True)
        return
    if hit is not None:
        embed, files = explanation_message(problem, hit)
        await interaction.response.send_message(embed=embed, files=files, ephemeral=True)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        result = await run_showing_progress(interaction, tutor, problem)
    except ExplainError as exc:
        await interaction.edit_original_response(content=f"😕 {exc}")
        return
    embed, files = explanation_message(problem, result)
    # The output replaces the "running" message: one message per press, not two.
    await interaction.edit_original_response(content=None, embed=embed, attachments=files)


async def run_showing_progress(interaction: discord.Interaction[Any], tutor: Tutor,
                               problem: Problem) -> Explanation:
    progress = Progress()
    shower = asyncio.create_task(show_progress(interaction, problem, progress))
    try:
        return await tutor.explainer.explain(
            problem, member_id=interaction.user.id, guild_id=interaction.guild_id or 0,
            progress=progress, wait=tutor.wait_external)
    finally:
        shower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await shower


async def show_progress(interaction: discord.Interaction[Any], problem: Problem,
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


def why_buttons(bank: Bank) -> Callable[[Challenge], Sequence[discord.ui.Item[Any]]]:
    """The reveal's extra buttons: "Why? (run it)" where the problem has an experiment."""
    def make(challenge: Challenge) -> list[discord.ui.Item[Any]]:
        problem = bank.problems.get(challenge.problem_id)
        return [WhyButton(challenge.id)] if problem and problem.experiment else []
    return make


class WhyButton(SafeButton, template=r"tutor:why:(?P<cid>\d{1,18})"):
    """Shown on revealed challenges whose problem has an experiment."""

    def __init__(self, challenge_id: int) -> None:
        super().__init__(discord.ui.Button(label="Why? (run it)", emoji="🔬",
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=f"tutor:why:{challenge_id}"))
        self.challenge_id = challenge_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str]) -> WhyButton:
        return cls(int(match["cid"]))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        challenge = await tutor.challenges.get(self.challenge_id)
        await send_explanation(interaction, tutor, tutor.challenges.problem_of(challenge))
