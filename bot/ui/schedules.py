"""How schedules look: /schedule list and the replies of add, pause, resume and remove."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.bank import KINDS, Bank
from bot.core.schedules import MAX_PER_SERVER, describe
from bot.store.records import Schedule
from bot.ui.replies import ts

FIELD_VALUE_MAX = 1024


def problems_in_words(schedule: Schedule, bank: Bank) -> str:
    pack = bank.packs.get(schedule.pack_id or "")
    title = pack.title if pack else schedule.pack_id  # a pack since removed shows its id
    parts = [f"pack: {title}" if schedule.pack_id else "any pack"]
    if schedule.difficulty:
        parts.append(schedule.difficulty)
    if schedule.kind:
        parts.append(KINDS.get(schedule.kind, schedule.kind))
    return " · ".join(parts)


def next_run_line(next_run: datetime | None) -> str:
    if next_run is None:
        return "Next: none"
    unix = next_run.timestamp()
    return f"Next: {ts(unix, 'F')} ({ts(unix)})"


def schedule_field(schedule: Schedule, next_run: datetime | None, bank: Bank) -> tuple[str, str]:
    """(name, value) of one schedule in the list."""
    name = f"#{schedule.id} · {describe(schedule)}"[:256]
    where = f"in <#{schedule.channel_id}> · {problems_in_words(schedule, bank)}"
    if schedule.ping_role_id:
        where += f" · pings <@&{schedule.ping_role_id}>"
    lines = [where]
    if schedule.paused_reason is not None:
        lines.append(f"⏸️ Paused: {schedule.paused_reason}. `/schedule resume id:{schedule.id}`"
                     " starts it again.")
    else:
        lines.append(next_run_line(next_run))
    shown_pause = schedule.paused_reason and schedule.last_outcome == \
        f"paused: {schedule.paused_reason}"
    if schedule.last_fire_at is not None and schedule.last_outcome and not shown_pause:
        lines.append(f"Last run {ts(schedule.last_fire_at, 'f')}: {schedule.last_outcome}")
    return name, "\n".join(lines)[:FIELD_VALUE_MAX]


def schedules_embed(schedules: list[tuple[Schedule, datetime | None]], bank: Bank,
                    server_zone: str) -> discord.Embed:
    embed = discord.Embed(title=f"🗓️ Scheduled challenges ({len(schedules)}/{MAX_PER_SERVER})",
                          colour=discord.Colour.blurple())
    if not schedules:
        embed.description = ("No schedules yet. An admin can add one, e.g. "
                             "`/schedule add channel:#quiz time:09:00 days:weekdays`.")
    for schedule, next_run in schedules:
        name, value = schedule_field(schedule, next_run, bank)
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=f"Server time zone: {server_zone} · the times above show in yours")
    return embed


def added_reply(schedule: Schedule, next_run: datetime | None, bank: Bank) -> str:
    return (f"✅ Schedule **#{schedule.id}**: {describe(schedule)} in <#{schedule.channel_id}>, "
            f"{problems_in_words(schedule, bank)}.\n{next_run_line(next_run)}")
