"""/tutor config, badge-role and weekly-post (Manage Server); /tutor sync (the bot's owner)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.bank.model import TIME_LIMIT_RANGE
from bot.core.errors import ChallengeError
from bot.core.settings import SettingRefused
from bot.core.weekly import DAY_NAMES, WEEKLY_OFF, weekly_changes
from bot.core.zones import UnknownZone, zone, zone_choices
from bot.store.records import GuildSettings
from bot.ui.choices import PACK_OPTION_MAX, pack_choices
from bot.ui.context import Tutor
from bot.ui.packs import packs_embed
from bot.ui.posts import missing_permissions, permission_names
from bot.ui.replies import error_reply
from bot.ui.roles import badge_choices, badge_role_reply
from bot.ui.weekly import weekly_setting_reply

log = logging.getLogger(__name__)

DAY_CHOICES = [app_commands.Choice(name=name, value=index) for index, name in enumerate(DAY_NAMES)]
SCORING_CHOICES = [
    app_commands.Choice(name="Speed: a bonus for answering early", value="speed"),
    app_commands.Choice(name="Learning: accuracy only, no racing", value="learning"),
]


def zone_line(name: str, now: float) -> str:
    """The server's zone and its wall clock now: 'Europe/Berlin (now 21:14)'."""
    try:
        return f"{name} (now {datetime.fromtimestamp(now, zone(name)):%H:%M})"
    except UnknownZone:  # stored before an update of the zone data dropped it
        return name


def settings_embed(settings: GuildSettings, now: float) -> discord.Embed:
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
    embed.add_field(name="Time zone", value=zone_line(settings.timezone, now))
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


async def weekly_post_changes(tutor: Tutor, guild: discord.Guild,
                              channel: discord.TextChannel | None, day: int | None,
                              time: str | None, off: bool) -> dict[str, Any]:
    """The settings /tutor weekly-post saves ({} when it only shows them); raises
    SettingRefused if the bot can't post there."""
    if off:
        return dict(WEEKLY_OFF)
    if channel is None and day is None and time is None:
        return {}
    current = await tutor.settings.of(guild.id)
    changes = weekly_changes(current, channel.id if channel else None, day, time)
    if changes is None:
        raise SettingRefused("Say where: `channel:` is the channel the weekly results go to.")
    target = guild.get_channel(changes["weekly_channel_id"])
    if target is None:
        raise SettingRefused("The weekly post's channel no longer exists: pick one with "
                             "`channel:`.")
    missing = missing_permissions(target, guild.me)
    if missing:
        raise SettingRefused(f"I can't post in {target.mention}: I need "
                             f"{permission_names(missing)} there.")
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
        thread="Open a discussion thread on each reveal",
        timezone="IANA time zone, e.g. Europe/Berlin: today/week/month and the weekly post "
                 "follow it")
    @app_commands.choices(scoring=SCORING_CHOICES)
    async def config(self, interaction: discord.Interaction[TutorBot],
                     channel: discord.TextChannel | None = None,
                     time_limit: app_commands.Range[int, 0, TIME_LIMIT_RANGE[1]] | None = None,
                     scoring: str | None = None,
                     hint_cost: app_commands.Range[int, 0, 100] | None = None,
                     several_per_channel: bool | None = None,
                     thread: bool | None = None,
                     timezone: app_commands.Range[str, 1, 64] | None = None) -> None:
        """Show or change this server's tutorbot settings (Manage Server)."""
        assert interaction.guild_id is not None
        tutor = self.bot.tutor
        changes = changes_from(channel=channel, time_limit=time_limit, scoring=scoring,
                               hint_cost=hint_cost, several_per_channel=several_per_channel,
                               thread=thread, timezone=timezone)
        try:
            settings = await tutor.settings.change(interaction.guild_id, **changes)
        except SettingRefused as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        if changes:
            log.info("guild %d settings changed by %d: %s", interaction.guild_id,
                     interaction.user.id, sorted(changes))
        if "timezone" in changes:  # the weekly post runs on the server's wall clock
            await tutor.rhythm.weekly_changed(interaction.guild_id)
        note = "✅ Saved." if changes else "Current settings:"
        await interaction.response.send_message(
            note, embed=settings_embed(settings, tutor.clock()), ephemeral=True)

    @app_commands.command(name="packs")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(pack="The pack to turn on or off", enabled="On (True) or off (False)")
    async def packs(self, interaction: discord.Interaction[TutorBot],
                    pack: app_commands.Range[str, 1, PACK_OPTION_MAX] | None = None,
                    enabled: bool | None = None) -> None:
        """Choose the packs challenges and schedules draw from (Manage Server)."""
        assert interaction.guild_id is not None
        tutor = self.bot.tutor
        note = "Packs on this server:"
        if pack is not None and enabled is not None:
            try:
                await tutor.settings.set_pack_enabled(interaction.guild_id, pack, enabled,
                                                      tutor.bank.packs)
            except ChallengeError as exc:
                await interaction.response.send_message(error_reply(exc), ephemeral=True)
                return
            log.info("guild %d pack %s turned %s by %d", interaction.guild_id, pack,
                     "on" if enabled else "off", interaction.user.id)
            note = f"✅ `{pack}` is {'on' if enabled else 'off'}."
        elif pack is not None or enabled is not None:
            note = "Give both `pack` and `enabled` to change one; here they are:"
        disabled = await tutor.settings.disabled_packs(interaction.guild_id)
        seen = await tutor.progress.seen_per_pack(interaction.guild_id)
        await interaction.response.send_message(
            note, embed=packs_embed(tutor.bank, disabled, None, seen), ephemeral=True)

    @packs.autocomplete("pack")
    async def packs_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                 current: str) -> list[app_commands.Choice[str]]:
        return pack_choices(self.bot.tutor.bank, current)

    @config.autocomplete("timezone")
    async def config_timezone_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                           current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in zone_choices(current)]

    @app_commands.command(name="badge-role")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(badge="The badge that brings the role",
                           role="The role members get with it (leave out to unlink the badge)")
    async def badge_role(self, interaction: discord.Interaction[TutorBot],
                         badge: app_commands.Range[str, 1, 100],
                         role: discord.Role | None = None) -> None:
        """Give members a role when they earn a badge (Manage Server)."""
        assert isinstance(interaction.user, discord.Member)
        reply = await badge_role_reply(self.bot.tutor.badge_roles, interaction.user, badge, role)
        await interaction.response.send_message(reply, ephemeral=True)

    @badge_role.autocomplete("badge")
    async def badge_role_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                      current: str) -> list[app_commands.Choice[str]]:
        return badge_choices(self.bot.tutor.badge_roles, current)

    @app_commands.command(name="sync")
    async def sync(self, interaction: discord.Interaction[TutorBot]) -> None:
        """Register tutorbot's slash commands with Discord (the bot's owner only)."""
        if not await self.bot.is_owner(interaction.user):
            await interaction.response.send_message("🚫 Only the bot's owner can sync commands.",
                                                    ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(await self.bot.sync_commands(), ephemeral=True)

    @app_commands.command(name="weekly-post")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        channel="Where the results are posted",
        day="The day it posts, in the server's time zone (default Monday)",
        time="HH:MM, 24 hours, in the server's time zone (default 09:00)",
        off="Turn the weekly results post off")
    @app_commands.choices(day=DAY_CHOICES)
    async def weekly_post(self, interaction: discord.Interaction[TutorBot],
                          channel: discord.TextChannel | None = None, day: int | None = None,
                          time: app_commands.Range[str, 1, 16] | None = None,
                          off: bool = False) -> None:
        """Post the week's top 10, most improved, badges and hardest problem (Manage Server)."""
        assert interaction.guild is not None
        guild, tutor = interaction.guild, self.bot.tutor
        try:
            changes = await weekly_post_changes(tutor, guild, channel, day, time, off)
            settings = await tutor.settings.change(guild.id, **changes)
        except SettingRefused as exc:
            await interaction.response.send_message(f"📅 {exc}", ephemeral=True)
            return
        if changes:
            log.info("guild %d weekly post changed by %d", guild.id, interaction.user.id)
            if (rhythm := getattr(tutor, "rhythm", None)) is not None:
                await rhythm.weekly_changed(guild.id)
        await interaction.response.send_message(weekly_setting_reply(settings, tutor.clock()),
                                                ephemeral=True)


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
