"""Leaderboard, profile and badge embeds, and the leaderboard's page buttons."""

from __future__ import annotations

import math
import re
from typing import Any

import discord

from bot.bank import KINDS, Bank
from bot.bank.model import KIND_EMOJI
from bot.core.badges import BadgeCatalogue
from bot.core.periods import Period
from bot.core.progress import PAGE_SIZE
from bot.store import ALL_PACKS
from bot.store.records import KindStats, Leaderboard, PracticeFigures, Profile
from bot.ui.buttons import SafeButton
from bot.ui.context import Tutor

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def leaderboard_title(period: Period, scope: str, bank: Bank) -> str:
    title = f"🏆 Leaderboard · {period.label}"
    if scope != ALL_PACKS and scope in bank.packs:
        title += f" · {bank.packs[scope].title}"
    return title[:256]


def leaderboard_embed(board: Leaderboard, period: Period, page: int, bank: Bank,
                      zone: str = "UTC") -> discord.Embed:
    embed = discord.Embed(title=leaderboard_title(period, board.scope, bank),
                          colour=discord.Colour.gold())
    if not board.rows:
        embed.description = "No points in this period yet. Start one with `/challenge`!"
    else:
        embed.description = "\n".join(
            f"{MEDALS.get(r.rank, f'`#{r.rank}`')} <@{r.member_id}> · **{r.points:,}** points"
            for r in board.rows)
    if board.me is not None:
        embed.add_field(name="You", value=f"#{board.me.rank} with {board.me.points:,} points")
    else:
        embed.add_field(name="You", value="No points in this period yet.")
    pages = max(1, math.ceil(board.total_members / PAGE_SIZE))
    days = "" if period is Period.ALL else f" · days by {zone} time"
    embed.set_footer(text=f"Page {page + 1}/{pages} · {board.total_members:,} members ranked"
                          f"{days}")
    return embed


def leaderboard_view(period: Period, scope: str, page: int, total: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    last = max(0, math.ceil(total / PAGE_SIZE) - 1)
    view.add_item(PageButton(period, scope, page - 1, "◀ Previous", disabled=page <= 0))
    view.add_item(PageButton(period, scope, page + 1, "Next ▶", disabled=page >= last))
    return view


async def render_leaderboard(tutor: Tutor, guild_id: int, member_id: int, period: Period,
                             scope: str, page: int) -> tuple[discord.Embed, discord.ui.View]:
    board = await tutor.progress.leaderboard(guild_id, period, scope, page, member_id)
    zone = (await tutor.settings.of(guild_id)).timezone
    return (leaderboard_embed(board, period, page, tutor.bank, zone),
            leaderboard_view(period, scope, page, board.total_members))


class PageButton(SafeButton,
                 template=r"tutor:lb:(?P<period>today|week|month|all):(?P<scope>\*|[a-z0-9-]{1,48})"
                          r":(?P<page>-?\d{1,4})"):
    """Turns the leaderboard's page; the period key is recomputed so pages stay current."""

    def __init__(self, period: Period, scope: str, page: int, label: str,
                 disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label=label, style=discord.ButtonStyle.secondary, disabled=disabled,
            custom_id=f"tutor:lb:{period.value}:{scope}:{page}"))
        self.period, self.scope, self.page = period, scope, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> PageButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(Period(match["period"]), match["scope"], int(match["page"]), label or "")

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        assert interaction.guild_id is not None
        embed, view = await render_leaderboard(tutor, interaction.guild_id, interaction.user.id,
                                               self.period, self.scope, max(0, self.page))
        await interaction.response.edit_message(embed=embed, view=view)


def weakest_kind(kinds: tuple[KindStats, ...]) -> KindStats | None:
    tried = [k for k in kinds if k.answered]
    return min(tried, key=lambda k: (k.accuracy, -k.answered)) if tried else None


def kind_lines(kinds: tuple[KindStats, ...]) -> str:
    by_kind = {k.kind: k for k in kinds}
    lines = []
    for kind, label in KINDS.items():
        stats = by_kind.get(kind)
        detail = f"{stats.correct}/{stats.answered} ({stats.accuracy:.0%})" if stats else "–"
        lines.append(f"{KIND_EMOJI[kind]} {label}: {detail}")
    return "\n".join(lines)


def profile_embed(profile: Profile, name: str, catalogue: BadgeCatalogue, bank: Bank,
                  practice: PracticeFigures | None = None,
                  review: str | None = None) -> discord.Embed:
    """Group scores first; private study (practice, badge runs, the review queue) apart."""
    embed = discord.Embed(title=f"📘 {name}", colour=discord.Colour.teal())
    accuracy = profile.correct / profile.answered if profile.answered else 0.0
    embed.add_field(name="Points", value=f"{profile.points:,}")
    embed.add_field(name="Accuracy", value=f"{accuracy:.0%} of {profile.answered} problems")
    embed.add_field(name="Streak", value=f"{profile.streak} (best {profile.best_streak})")
    embed.add_field(name="By kind", value=kind_lines(profile.kinds), inline=False)
    weakest = weakest_kind(profile.kinds)
    if weakest is not None:
        embed.add_field(name="Practise next",
                        value=f"{KIND_EMOJI[weakest.kind]} {KINDS[weakest.kind]} "
                              f"({weakest.accuracy:.0%} correct)", inline=False)
    earned = [b for b in (catalogue.get(i) for i, _ in profile.badges) if b is not None]
    embed.add_field(name=f"Badges ({len(earned)}/{len(catalogue.badges)})",
                    value=" ".join(f"{b.emoji} {b.name}" for b in earned) or "None yet.",
                    inline=False)
    packs = [f"{p.title}: {profile.solved.get(p.id, 0)}/{len(p.problems)}" for p in bank]
    embed.add_field(name="Packs solved", value="\n".join(packs)[:1024] or "–", inline=False)
    if practice is not None:
        embed.add_field(name="Practice (not on the leaderboard)",
                        value=practice_line(practice), inline=False)
    if review is not None:
        embed.add_field(name="Review", value=review, inline=False)
    return embed


def practice_line(practice: PracticeFigures) -> str:
    runs = (f" · {practice.badge_runs} badge run{'s' if practice.badge_runs != 1 else ''}"
            f" finished, {practice.perfect_runs} perfect") if practice.badge_runs else ""
    if not practice.answered and not runs:
        return "None yet: /practice and /badge-run are private."
    return (f"{practice.answered} problem{'s' if practice.answered != 1 else ''} solved, "
            f"{practice.first_try} on the first try{runs}")


def badges_embed(catalogue: BadgeCatalogue, earned: set[str]) -> discord.Embed:
    lines = [f"{'✅' if b.id in earned else '▫️'} {b.emoji} **{b.name}**: {b.description}"
             for b in catalogue]
    return discord.Embed(title=f"🏅 Badges · {len(earned)}/{len(lines)} earned",
                         description="\n".join(lines)[:4096], colour=discord.Colour.purple())
