"""/stats problem and /stats pack, rendered for organisers: figures, then what to check."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.bank import Bank
from bot.core.insight import MIN_RESPONSES, ItemStats, PackStats
from bot.ui.choices import MAX_CHOICES, PACK_OPTION_MAX

COUNTED_FOOTER = ("Counted: group challenges and badge runs (timed, scored). Practice and "
                  "review are left out: untimed, with unlimited tries.")
EMBED_BUDGET = 6000  # characters across one message's embeds
MAX_FIELDS = 25
OK_COLOUR = discord.Colour.dark_teal()
FLAG_COLOUR = discord.Colour.orange()


def problem_choices(bank: Bank, current: str) -> list[app_commands.Choice[str]]:
    """Problems whose id or title holds what was typed, for the `id` option."""
    needle = current.lower()[:PACK_OPTION_MAX]
    return [app_commands.Choice(name=f"{p.title} ({p.id})"[:100], value=p.id)
            for p in bank.problems.values()
            if needle in p.id.lower() or needle in p.title.lower()][:MAX_CHOICES]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def discrimination_text(item: ItemStats) -> str:
    return "n/a" if item.discrimination is None else f"{item.discrimination:+.2f}"


def picks_line(item: ItemStats) -> str:
    if not item.picks:
        return "—"
    parts = []
    for letter, n in item.picks.items():
        label = f"**{letter} ✓**" if letter == item.problem.answer else letter
        parts.append(f"{label} {n}")
    return " · ".join(parts)


def warnings(item: ItemStats) -> list[str]:
    """What an organiser should look at, in their words."""
    found = []
    if item.wrong_favourite is not None:
        found.append(f"⚠️ most picked: {item.wrong_favourite} (wrong) — check the key")
    if item.negative_discrimination:
        found.append(f"⚠️ discrimination {discrimination_text(item)}: members who do well "
                     "elsewhere miss it more — check the key or the wording")
    return found


def problem_embed(item: ItemStats) -> discord.Embed:
    problem = item.problem
    lines = [f"`{problem.id}` · key **{problem.answer}**", *warnings(item)]
    embed = discord.Embed(title=f"📊 {problem.title}"[:256], description="\n".join(lines),
                          colour=FLAG_COLOUR if item.flagged else OK_COLOUR)
    embed.add_field(name="Times asked", value=f"{item.asked} · {item.responses} responses")
    embed.add_field(name="Right", value=f"first try {percent(item.first_share)} · "
                                        f"in the end {percent(item.end_share)}")
    embed.add_field(name="Hint use", value=percent(item.hint_share))
    embed.add_field(name="Picks (first tries)", value=picks_line(item), inline=False)
    embed.add_field(name="Median time to a right answer", value=seconds(item.median_right_s))
    embed.add_field(name="Discrimination", value=discrimination_text(item))
    embed.set_footer(text=f"{COUNTED_FOOTER} Discrimination and flags need {MIN_RESPONSES}+ "
                          "responses.")
    return embed


def item_summary(item: ItemStats) -> str:
    lines = [
        f"`{item.problem.id}` · asked {item.asked} · {item.responses} responses",
        f"right: first try {percent(item.first_share)} · in the end {percent(item.end_share)}"
        f" · hints {percent(item.hint_share)}",
        f"picks: {picks_line(item)}",
        f"median {seconds(item.median_right_s)} · discrimination {discrimination_text(item)}",
        *warnings(item),
    ]
    return "\n".join(lines)[:1024]


def pack_embed(stats: PackStats) -> discord.Embed:
    flagged = f" · ⚠️ {stats.flagged} to check" if stats.flagged else ""
    embed = discord.Embed(title=f"📊 {stats.pack.title}"[:256],
                          description=f"{len(stats.items)} problems, hardest first{flagged}",
                          colour=FLAG_COLOUR if stats.flagged else OK_COLOUR)
    embed.set_footer(text=COUNTED_FOOTER)
    shown = 0
    for rank, item in enumerate(stats.items, start=1):
        name = f"{rank}. {'⚠️ ' if item.flagged else ''}{item.problem.title}"[:256]
        value = item_summary(item)
        # Room for the "more" note below: a pack larger than one message shows its hardest.
        if shown == MAX_FIELDS or len(embed) + len(name) + len(value) > EMBED_BUDGET - 100:
            break
        embed.add_field(name=name, value=value, inline=False)
        shown += 1
    if shown < len(stats.items):
        embed.description = (f"{embed.description}\n…and {len(stats.items) - shown} more: "
                             "see `/stats problem` for each.")
    return embed
