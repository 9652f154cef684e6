"""How the weekly results look: the post itself and the replies of /tutor weekly-post."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

import discord

from bot.bank import Bank
from bot.core.badges import BadgeCatalogue
from bot.core.weekly import (
    Improvement,
    MissedProblem,
    Standing,
    WeeklyReport,
    WeeklyService,
    describe_weekly,
    next_post,
)
from bot.core.zones import stored_zone
from bot.store.records import GuildSettings
from bot.ui.replies import ts

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
FIELD_VALUE_MAX = 1024
BADGE_MEMBERS_SHOWN = 15  # a week of many first badges lists the first few, then a count
QUIET = ("🌙 A quiet week: nobody answered a challenge. Start one with `/challenge`, or ask an "
         "admin for a `/schedule`!")

WeeklyPost = Callable[[GuildSettings, float], Awaitable[discord.Embed]]


def week_span(first: date, last: date) -> str:
    """'21–27 Nov', '28 Nov – 4 Dec', '29 Dec 2026 – 4 Jan 2027'."""
    if first == last:
        return f"{first.day} {first:%b}"
    if first.year != last.year:
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%b} – {last.day} {last:%b}"
    return f"{first.day}–{last.day} {last:%b}"


def within(lines: Sequence[str], limit: int = FIELD_VALUE_MAX) -> str:
    """The lines that fit in `limit` characters, then '… and N more'."""
    shown: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        tail = f"… and {len(lines) - index} more"
        last = index == len(lines) - 1
        if size + len(line) + 1 + (0 if last else len(tail) + 1) > limit:
            shown.append(tail)
            break
        shown.append(line)
        size += len(line) + 1
    return "\n".join(shown)


def standing_line(standing: Standing) -> str:
    rank = MEDALS.get(standing.rank, f"`#{standing.rank}`")
    return f"{rank} <@{standing.member_id}> · **{standing.points:,}** points"


def improvement_line(improvement: Improvement) -> str:
    return (f"<@{improvement.member_id}> **+{improvement.rise:,}** "
            f"({improvement.previous:,} → {improvement.points:,})")


def badge_lines(badges: Sequence[tuple[int, str]], catalogue: BadgeCatalogue) -> list[str]:
    """One line per member, their badges in the order earned; a badge no longer defined
    (its pack was removed) shows its id."""
    by_member: dict[int, list[str]] = {}
    for member, badge_id in badges:
        badge = catalogue.get(badge_id)
        name = f"{badge.emoji} {badge.name}" if badge else f"`{badge_id[:40]}`"
        by_member.setdefault(member, []).append(name)
    lines = [f"<@{m}> {' · '.join(names)}" for m, names in by_member.items()]
    if len(lines) > BADGE_MEMBERS_SHOWN:
        lines = lines[:BADGE_MEMBERS_SHOWN] + [f"… and {len(lines) - BADGE_MEMBERS_SHOWN} more"]
    return lines


def missed_line(missed: MissedProblem, bank: Bank) -> str:
    problem = bank.problems.get(missed.problem_id)
    name = (f"**{problem.title[:200]}**" if problem else
            f"`{missed.problem_id[:60]}` (no longer in the question bank)")
    return (f"{name}\n{missed.right} of {missed.answered} got it right "
            f"({missed.correct_rate:.0%}): worth another look!")


def week_footer(report: WeeklyReport) -> str:
    local = stored_zone(report.zone)
    start, end = (datetime.fromtimestamp(t, local) for t in (report.start, report.end))
    return f"{start:%a %d %b %H:%M} – {end:%a %d %b %H:%M} ({report.zone})"


def weekly_embed(report: WeeklyReport, bank: Bank, catalogue: BadgeCatalogue) -> discord.Embed:
    """The weekly results post. It mentions members: send it with AllowedMentions.none()."""
    span = week_span(report.first_day, report.last_day)
    embed = discord.Embed(title=f"📅 Weekly results · {span}", colour=discord.Colour.gold())
    embed.set_footer(text=week_footer(report))
    if report.quiet:
        embed.description = QUIET
        return embed
    embed.description = (f"**{report.challenges:,}** challenge{'s' * (report.challenges != 1)}"
                         f" · **{report.members:,}** member{'s' * (report.members != 1)} "
                         "answered")
    if report.top:
        embed.add_field(name="🏆 Top 10", inline=False,
                        value=within([standing_line(s) for s in report.top]))
    if report.improved:
        embed.add_field(name="📈 Most improved", inline=False,
                        value=within([improvement_line(i) for i in report.improved]))
    if report.badges:
        embed.add_field(name="🏅 Badges earned", inline=False,
                        value=within(badge_lines(report.badges, catalogue)))
    if report.missed_most is not None:
        embed.add_field(name="🤔 Missed most", inline=False,
                        value=within([missed_line(report.missed_most, bank)]))
    return embed


def weekly_post(service: WeeklyService, bank: Bank, catalogue: BadgeCatalogue) -> WeeklyPost:
    """What the scheduler calls at a weekly post's time: the embed of the week before."""
    async def render(settings: GuildSettings, end: float) -> discord.Embed:
        report = await service.report(settings.guild_id, end, settings.timezone)
        return weekly_embed(report, bank, catalogue)
    return render


def weekly_setting_reply(settings: GuildSettings, now: float) -> str:
    """What /tutor weekly-post answers: the post's rhythm and its next time, or that it's off."""
    day, hhmm = settings.weekly_day, settings.weekly_time
    if settings.weekly_channel_id is None or day is None or hhmm is None:
        return ("📅 The weekly results post is off. Turn it on with "
                "`/tutor weekly-post channel:#results day:Monday time:09:00`.")
    rhythm = describe_weekly(day, hhmm, settings.timezone)
    next_at = next_post(day, hhmm, settings.timezone, now)
    return (f"📅 Weekly results in <#{settings.weekly_channel_id}>: {rhythm}; "
            f"next {ts(next_at, 'F')} ({ts(next_at)}).")
