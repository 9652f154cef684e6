"""/packs and /tutor packs: the installed packs, which the server has on, and progress."""

from __future__ import annotations

import discord

from bot.bank import Bank

FIELD_LIMIT = 1024
MAX_FIELDS = 25


def packs_embed(bank: Bank, disabled: frozenset[str], solved: dict[str, int] | None,
                seen: dict[str, int], title: str = "📚 Packs") -> discord.Embed:
    """One field per pack: on or off, its size, what the server has seen of it and, for a
    member, how much of it they have solved."""
    embed = discord.Embed(title=title, colour=discord.Colour.dark_teal())
    packs = list(bank)
    for pack in packs[:MAX_FIELDS]:
        size = len(pack.problems)
        state = "⏸️ off" if pack.id in disabled else "✅ on"
        lines = [f"`{pack.id}` · {state} · {size} problem{'s' if size != 1 else ''}",
                 f"the server has seen {min(seen.get(pack.id, 0), size)}/{size}"]
        if solved is not None:
            lines.append(f"you have solved {min(solved.get(pack.id, 0), size)}/{size}")
        embed.add_field(name=f"{pack.badge.emoji} {pack.title}"[:256],
                        value="\n".join(lines)[:FIELD_LIMIT], inline=False)
    if len(packs) > MAX_FIELDS:
        embed.set_footer(text=f"… and {len(packs) - MAX_FIELDS} more packs.")
    else:
        embed.set_footer(text="Challenges and schedules draw from the packs that are on; "
                              "an admin turns them on and off with /tutor packs.")
    return embed
