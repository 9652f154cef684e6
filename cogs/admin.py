"""/tutor config (Manage Server) and /tutor sync (the bot's owner)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.bank.model import TIME_LIMIT_RANGE
from bot.core.settings import SettingRefused
from bot.store.records import GuildSettings

log = logging.getLogger(__name__)

SCORING_CHOICES = [
    app_commands.Choice(name="Speed: a bonus for answering early", value="speed"),
    app_commands.Choice(name="Learning: accuracy only, no racing", value="learning"),
]


def settings_embed(settings: GuildSettings) -> discord.Embed:
    channel = f"<#{settings.challenge_channel_id}>" if settings.challenge_channel_id else \
        "wherever /challenge is used"
    limit = f"{settings.time_limit} s" if settings.time_limit else "each problem's own"
    embed = discord.Embed(title="⚙️ tutorbot settings", colour=discord.Colour.blurple())
    embed.add_field(name="Challenge channel", value=channel)
    embed.add_field(name="Time limit", value=limit)
    embed.add_field(name="Scoring", value=settings.scoring_mode)
    embed.add_field(name="Hint cost", value=f"{settings.hint_cost_percent}% of the points")
    embed.add_field(name="Open challenges per channel",
                    value="several" if settings.multiple_per_channel else "one")
    embed.add_field(name="Discussion thread on reveal",
                    value="yes" if settings.discussion_thread else "no")
    return embed


def changes_from(**options: Any) -> dict[str, Any]:
    renames = {"channel": "challenge_channel_id", "scoring": "scoring_mode",
               "hint_cost": "hint_cost_percent", "several_per_channel": "multiple_per_channel",
               "thread": "discussion_thread"}
    changes = {}
    for name, value in options.items():
        if value is None:
            continue
        if name == "channel":
            value = value.id
        if name == "time_limit" and value == 0:
            value = None  # 0 restores each problem's own limit
        changes[renames.get(name, name)] = value
    return changes


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class TutorGroup(app_commands.Group, name="tutor", description="Set up tutorbot (admins)"):
    def __init__(self, bot: TutorBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="config")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        channel="Where challenges are posted (default: where /challenge is used)",
        time_limit="Seconds per challenge, 10–900 (0: each problem's own)",
        scoring="Speed bonus, or accuracy only",
        hint_cost="Percent of the points a hint costs (0–100)",
        several_per_channel="Allow several open challenges in one channel",
        thread="Open a discussion thread on each reveal")
    @app_commands.choices(scoring=SCORING_CHOICES)
    async def config(self, interaction: discord.Interaction[TutorBot],
                     channel: discord.TextChannel | None = None,
                     time_limit: app_commands.Range[int, 0, TIME_LIMIT_RANGE[1]] | None = None,
                     scoring: str | None = None,
                     hint_cost: app_commands.Range[int, 0, 100] | None = None,
                     several_per_channel: bool | None = None,
                     thread: bool | None = None) -> None:
        """Show or change this server's tutorbot settings (Manage Server)."""
        assert interaction.guild_id is not None
        changes = changes_from(channel=channel, time_limit=time_limit, scoring=scoring,
                               hint_cost=hint_cost, several_per_channel=several_per_channel,
                               thread=thread)
        try:
            settings = await self.bot.tutor.settings.change(interaction.guild_id, **changes)
        except SettingRefused as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        if changes:
            log.info("guild %d settings changed by %d: %s", interaction.guild_id,
                     interaction.user.id, sorted(changes))
        note = "✅ Saved." if changes else "Current settings:"
        await interaction.response.send_message(note, embed=settings_embed(settings),
                                                ephemeral=True)

    @app_commands.command(name="sync")
    async def sync(self, interaction: discord.Interaction[TutorBot]) -> None:
        """Register tutorbot's slash commands with Discord (the bot's owner only)."""
        if not await self.bot.is_owner(interaction.user):
            await interaction.response.send_message("🚫 Only the bot's owner can sync commands.",
                                                    ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(await self.bot.sync_commands(), ephemeral=True)


class AdminCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.group = TutorGroup(bot)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(AdminCog(bot))
