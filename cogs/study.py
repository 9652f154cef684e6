"""/practice, /badge-run and /review: a member's private study, one problem at a time."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.bank import KINDS
from bot.core.errors import BadgeRunInProgress, ChallengeError
from bot.ui.choices import PACK_OPTION_MAX, pack_choices
from bot.ui.replies import error_reply
from bot.ui.study import in_progress_view, show_step_or_summary

KIND_CHOICES = [app_commands.Choice(name=label, value=kind) for kind, label in KINDS.items()]


class StudyCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.tutor = bot.tutor

    @app_commands.command(name="practice")
    @app_commands.guild_only()
    @app_commands.describe(pack="Which question pack (default: any)",
                           kind="Only problems of this kind")
    @app_commands.choices(kind=KIND_CHOICES)
    async def practice(self, interaction: discord.Interaction[TutorBot],
                       pack: app_commands.Range[str, 1, PACK_OPTION_MAX] | None = None,
                       kind: str | None = None) -> None:
        """Practise privately: untimed, as many tries as you like, free hints."""
        assert interaction.guild_id is not None
        try:
            run = await self.tutor.study.start_practice(interaction.guild_id,
                                                        interaction.user.id, pack=pack,
                                                        kind=kind)
        except ChallengeError as exc:
            await interaction.response.send_message(error_reply(exc), ephemeral=True)
            return
        await show_step_or_summary(interaction, self.tutor, run, edit=False)

    @app_commands.command(name="badge-run")
    @app_commands.guild_only()
    @app_commands.describe(pack="The pack to run through, in order")
    async def badge_run(self, interaction: discord.Interaction[TutorBot],
                        pack: app_commands.Range[str, 1, PACK_OPTION_MAX]) -> None:
        """A pack's problems in a row, each timed: all right earns the pack's badge."""
        assert interaction.guild_id is not None
        try:
            started = await self.tutor.study.start_badge_run(interaction.guild_id,
                                                             interaction.user.id, pack)
        except BadgeRunInProgress as exc:
            await interaction.response.send_message(error_reply(exc),
                                                    view=in_progress_view(exc.run_id),
                                                    ephemeral=True)
            return
        except ChallengeError as exc:
            await interaction.response.send_message(error_reply(exc), ephemeral=True)
            return
        note = None
        if started.abandoned is not None:
            left = started.abandoned
            note = (f"Your earlier run stopped at problem {left.position + 1} of "
                    f"{len(left.problem_ids)} over an hour ago, so it is marked abandoned.")
        await show_step_or_summary(interaction, self.tutor, started.run, note=note, edit=False)

    @app_commands.command(name="review")
    @app_commands.guild_only()
    async def review(self, interaction: discord.Interaction[TutorBot]) -> None:
        """Problems you missed or needed a hint for, back when they are due (FSRS)."""
        assert interaction.guild_id is not None
        try:
            run = await self.tutor.study.start_review(interaction.guild_id, interaction.user.id)
        except ChallengeError as exc:
            await interaction.response.send_message(error_reply(exc), ephemeral=True)
            return
        await show_step_or_summary(interaction, self.tutor, run, edit=False)

    @practice.autocomplete("pack")
    @badge_run.autocomplete("pack")
    async def pack_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                current: str) -> list[app_commands.Choice[str]]:
        return pack_choices(self.tutor.bank, current)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(StudyCog(bot))
