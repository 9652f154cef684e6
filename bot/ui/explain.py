"""How an explanation run is shown: its output, the answer it derived, and its plots."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.bank import Problem
from bot.ui.buttons import SafeButton
from bot.worker.explainer import Explanation, Progress

if TYPE_CHECKING:
    from bot.app import TutorBot

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


class WhyButton(SafeButton, template=r"tutor:why:(?P<cid>\d+)"):
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

    async def handle(self, interaction: discord.Interaction[Any], bot: TutorBot) -> None:
        challenge = await bot.service.get(self.challenge_id)
        cog = bot.get_cog("ExplainCog")
        if cog is None:
            await interaction.response.send_message("Explanations are switched off here.",
                                                    ephemeral=True)
            return
        await cog.respond(interaction, bot.service.problem_of(challenge))  # type: ignore[attr-defined]
