"""/schedule: challenges that post themselves, in each server's own time zone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TutorBot
from bot.bank import DIFFICULTIES, KINDS
from bot.core.errors import ChallengeError
from bot.core.schedules import ScheduleNotFound, ScheduleRefused
from bot.core.zones import UnknownZone, zone_choices
from bot.store.records import Schedule, ScheduleLimitReached
from bot.ui.choices import MAX_CHOICES, PACK_OPTION_MAX, pack_choices
from bot.ui.context import Tutor
from bot.ui.posts import missing_permissions, permission_names
from bot.ui.replies import error_reply, quoted
from bot.ui.schedules import added_reply, describe, next_run_line, schedules_embed

log = logging.getLogger(__name__)

DAY_SUGGESTIONS = ("every day", "weekdays", "weekends", "mon,wed,fri", "tue,thu", "sat")
DIFFICULTY_CHOICES = [app_commands.Choice(name=d.capitalize(), value=d) for d in DIFFICULTIES]
KIND_CHOICES = [app_commands.Choice(name=label, value=kind) for kind, label in KINDS.items()]


def zone_refusal(error: UnknownZone) -> str:
    hint = f" Did you mean {', '.join(error.suggestions)}?" if error.suggestions else ""
    return (f"I don't know the time zone {quoted(error.name)}.{hint} Use an IANA name such as "
            "Europe/Berlin or America/New_York.")


def ping_refusal(role: discord.Role | None) -> str | None:
    if role is not None and role.is_default():
        return "Pick a role to ping, not @everyone."
    return None


def ping_warning(role: discord.Role | None, me: discord.Member, channel: Any) -> str:
    """Discord only notifies a role's members if the role is mentionable or the bot may
    mention every role."""
    if role is None or role.mentionable or channel.permissions_for(me).mention_everyone:
        return ""
    return (f"\n⚠️ {role.mention} isn't mentionable, so its members won't be notified. Make it "
            "mentionable in Server Settings → Roles, or give me **Mention All Roles**.")


@app_commands.guild_only()
class ScheduleGroup(app_commands.Group, name="schedule",
                    description="Challenges that post themselves on a rhythm"):
    def __init__(self, bot: TutorBot) -> None:
        super().__init__()
        self.bot = bot

    @property
    def tutor(self) -> Tutor:
        return self.bot.tutor

    @app_commands.command(name="add")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        channel="Where the challenges are posted",
        time="HH:MM, 24 hours, in the schedule's time zone (leave out with a cron expression)",
        days="every day, weekdays, weekends, a list like mon,wed,fri, or a 5-field cron",
        timezone="IANA time zone (default: the server's, see /tutor config)",
        pack="Only problems of this pack (default: any)",
        difficulty="Only problems of this difficulty",
        kind="Only problems of this kind",
        ping="A role to mention in each post (only this role is pinged)")
    @app_commands.choices(difficulty=DIFFICULTY_CHOICES, kind=KIND_CHOICES)
    async def add(self, interaction: discord.Interaction[TutorBot], channel: discord.TextChannel,
                  time: app_commands.Range[str, 1, 16] | None = None,
                  days: app_commands.Range[str, 1, 60] | None = None,
                  timezone: app_commands.Range[str, 1, 64] | None = None,
                  pack: app_commands.Range[str, 1, PACK_OPTION_MAX] | None = None,
                  difficulty: str | None = None, kind: str | None = None,
                  ping: discord.Role | None = None) -> None:
        """Post a challenge on a rhythm, e.g. weekdays at 09:00 (Manage Server)."""
        assert interaction.guild is not None
        guild = interaction.guild
        missing = missing_permissions(channel, guild.me)
        if missing:
            await self.refuse(interaction, f"I can't post in {channel.mention}: I need "
                                           f"{permission_names(missing)} there.")
            return
        if (refusal := ping_refusal(ping)) is not None:
            await self.refuse(interaction, refusal)
            return
        server_zone = (await self.tutor.settings.of(guild.id)).timezone
        try:
            schedule = await self.tutor.schedules.add(
                guild_id=guild.id, channel_id=channel.id, time_text=time, days_text=days,
                timezone=timezone or server_zone, pack=pack, difficulty=difficulty, kind=kind,
                ping_role_id=ping.id if ping else None, created_by=interaction.user.id)
        except ScheduleRefused as exc:
            await self.refuse(interaction, f"🗓️ {exc}")
            return
        except UnknownZone as exc:
            await self.refuse(interaction, zone_refusal(exc))
            return
        except ScheduleLimitReached as exc:
            await self.refuse(interaction, f"This server already has {exc.limit} schedules, the "
                                           "most it may have. Remove one with `/schedule remove`"
                                           " first.")
            return
        except ChallengeError as exc:
            await self.refuse(interaction, error_reply(exc))
            return
        self.tutor.rhythm.schedule_changed(schedule, schedule.id)
        log.info("schedule %d added in guild %d by %d: %s", schedule.id, guild.id,
                 interaction.user.id, describe(schedule))
        await interaction.response.send_message(
            added_reply(schedule, self.next_run(schedule), self.tutor.bank)
            + ping_warning(ping, guild.me, channel), ephemeral=True)

    @app_commands.command(name="list")
    async def show(self, interaction: discord.Interaction[TutorBot]) -> None:
        """This server's scheduled challenges, with their next run."""
        assert interaction.guild_id is not None
        schedules = await self.tutor.schedules.of_guild(interaction.guild_id)
        server_zone = (await self.tutor.settings.of(interaction.guild_id)).timezone
        embed = schedules_embed([(s, self.next_run(s)) for s in schedules], self.tutor.bank,
                                server_zone)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="pause")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(id="The schedule's number, from /schedule list")
    async def pause(self, interaction: discord.Interaction[TutorBot],
                    id: app_commands.Range[int, 1]) -> None:
        """Stop a schedule for now; /schedule resume starts it again (Manage Server)."""
        await self.change(interaction, id, "pause")

    @app_commands.command(name="resume")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(id="The schedule's number, from /schedule list")
    async def resume(self, interaction: discord.Interaction[TutorBot],
                     id: app_commands.Range[int, 1]) -> None:
        """Start a paused schedule again (Manage Server)."""
        await self.change(interaction, id, "resume")

    @app_commands.command(name="remove")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(id="The schedule's number, from /schedule list")
    async def remove(self, interaction: discord.Interaction[TutorBot],
                     id: app_commands.Range[int, 1]) -> None:
        """Delete a schedule (Manage Server)."""
        await self.change(interaction, id, "remove")

    async def change(self, interaction: discord.Interaction[TutorBot], schedule_id: int,
                     action: str) -> None:
        assert interaction.guild_id is not None
        guild_id, service = interaction.guild_id, self.tutor.schedules
        try:
            if action == "pause":
                schedule = await service.pause(guild_id, schedule_id,
                                               f"<@{interaction.user.id}> paused it")
                reply = f"⏸️ Schedule #{schedule_id} is paused."
            elif action == "resume":
                current = await service.get(guild_id, schedule_id)
                broken = self.tutor.rhythm.target_problem(guild_id, current.channel_id)
                if broken is not None:
                    await self.refuse(interaction, f"I can't resume schedule #{schedule_id}: "
                                                   f"{broken}. Fix that, or remove it and add "
                                                   "a new one.")
                    return
                schedule = await service.resume(guild_id, schedule_id)
                reply = (f"▶️ Schedule #{schedule_id} runs again. "
                         f"{self.next_line(schedule)}")
            else:
                schedule = await service.remove(guild_id, schedule_id)
                reply = f"🗑️ Schedule #{schedule_id} ({describe(schedule)}) is removed."
        except ScheduleNotFound:
            await self.refuse(interaction, f"This server has no schedule #{schedule_id}. "
                                           "`/schedule list` shows their numbers.")
            return
        self.tutor.rhythm.schedule_changed(None if action == "remove" else schedule,
                                           schedule_id)
        log.info("schedule %d: %s in guild %d by %d", schedule_id, action, guild_id,
                 interaction.user.id)
        await interaction.response.send_message(reply, ephemeral=True)

    def next_run(self, schedule: Schedule) -> datetime | None:
        return self.tutor.schedules.next_run(schedule, self.tutor.clock())

    def next_line(self, schedule: Schedule) -> str:
        return next_run_line(self.next_run(schedule))

    @staticmethod
    async def refuse(interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True)

    @add.autocomplete("days")
    async def days_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                current: str) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        matching = [d for d in DAY_SUGGESTIONS if d.startswith(typed)] or list(DAY_SUGGESTIONS)
        if typed and typed not in matching:
            matching.insert(0, current[:100])  # their own list or cron, as typed
        return [app_commands.Choice(name=d, value=d) for d in matching][:MAX_CHOICES]

    @add.autocomplete("timezone")
    async def timezone_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                    current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in zone_choices(current)]

    @add.autocomplete("pack")
    async def pack_autocomplete(self, interaction: discord.Interaction[TutorBot],
                                current: str) -> list[app_commands.Choice[str]]:
        return pack_choices(self.tutor.bank, current)

    @pause.autocomplete("id")
    @resume.autocomplete("id")
    @remove.autocomplete("id")
    async def id_autocomplete(self, interaction: discord.Interaction[TutorBot],
                              current: str) -> list[app_commands.Choice[int]]:
        assert interaction.guild_id is not None
        schedules = await self.tutor.schedules.of_guild(interaction.guild_id)
        return [app_commands.Choice(name=f"#{s.id} · {describe(s)}"[:100], value=s.id)
                for s in schedules if str(s.id).startswith(str(current).strip())][:MAX_CHOICES]


class ScheduleCog(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.group = ScheduleGroup(bot)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(ScheduleCog(bot))
