"""/leaderboard, /profile and /badges: progress, built from stored ids (no members intent)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.core.errors import UnknownPack
from bot.core.periods import Period
from bot.store import ALL_PACKS
from bot.ui.choices import PACK_OPTION_MAX, pack_choices
from bot.ui.packs import packs_embed
from bot.ui.replies import error_reply
from bot.ui.stats import badges_embed, profile_embed, render_leaderboard
from bot.ui.study import review_line

PERIOD_CHOICES = [app_commands.Choice(name=p.label, value=p.value) for p in Period]


class StatsCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.tutor = bot.tutor

    @app_commands.command(name="leaderboard")
    @app_commands.guild_only()
    @app_commands.describe(period="Which period (default: this week)",
                           pack="Only points from this pack")
    @app_commands.choices(period=PERIOD_CHOICES)
    async def leaderboard(self, interaction: discord.Interaction[TutorBot],
                          period: str = Period.WEEK.value,
                          pack: app_commands.Range[str, 1, PACK_OPTION_MAX] | None = None
                          ) -> None:
        """The server's top 10 and your own rank."""
        assert interaction.guild_id is not None
        if pack is not None and pack not in self.tutor.bank.packs:
            await interaction.response.send_message(error_reply(UnknownPack(pack)),
                                                    ephemeral=True)
            return
        embed, view = await render_leaderboard(self.tutor, interaction.guild_id,
                                               interaction.user.id, Period(period),
                                               pack or ALL_PACKS, 0)
        # Private: "You" is always the reader's own rank, also as they page.
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @leaderboard.autocomplete("pack")
    async def pack_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                current: str) -> list[app_commands.Choice[str]]:
        return pack_choices(self.tutor.bank, current)

    @app_commands.command(name="profile")
    @app_commands.guild_only()
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile(self, interaction: discord.Interaction[TutorBot],
                      member: discord.Member | discord.User | None = None) -> None:
        """Points, accuracy by kind, streak, badges and what to practise next."""
        assert interaction.guild_id is not None
        who = member or interaction.user
        profile = await self.tutor.progress.profile(interaction.guild_id, who.id)
        practice = await self.tutor.study.practice_figures(interaction.guild_id, who.id)
        review = None
        if who.id == interaction.user.id:  # a member's review queue is theirs to see
            queue = await self.tutor.review.summary(interaction.guild_id, who.id)
            review = review_line(queue.due_now, queue.next_due, queue.cards)
        embed = profile_embed(profile, who.display_name, self.tutor.challenges.catalogue,
                              self.tutor.bank, practice, review)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="packs")
    @app_commands.guild_only()
    async def packs(self, interaction: discord.Interaction[TutorBot]) -> None:
        """The question packs: which are on here, what the server has seen, what you solved."""
        assert interaction.guild_id is not None
        tutor = self.tutor
        profile = await tutor.progress.profile(interaction.guild_id, interaction.user.id)
        disabled = await tutor.settings.disabled_packs(interaction.guild_id)
        seen = await tutor.progress.seen_per_pack(interaction.guild_id)
        await interaction.response.send_message(
            embed=packs_embed(tutor.bank, disabled, profile.solved, seen), ephemeral=True)

    @app_commands.command(name="badges")
    @app_commands.guild_only()
    async def badges(self, interaction: discord.Interaction[TutorBot]) -> None:
        """Every badge, earned and not yet earned."""
        assert interaction.guild_id is not None
        profile = await self.tutor.progress.profile(interaction.guild_id, interaction.user.id)
        earned = {badge for badge, _ in profile.badges}
        await interaction.response.send_message(
            embed=badges_embed(self.tutor.challenges.catalogue, earned), ephemeral=True)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(StatsCog(bot))
