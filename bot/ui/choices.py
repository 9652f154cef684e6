"""Autocomplete choices shared by several commands."""

from __future__ import annotations

from discord import app_commands

from bot.bank import Bank

MAX_CHOICES = 25  # Discord shows at most 25
PACK_OPTION_MAX = 100  # characters a member may type in a `pack` option (ids are at most 48)


def pack_choices(bank: Bank, current: str) -> list[app_commands.Choice[str]]:
    needle = current.lower()[:PACK_OPTION_MAX]
    return [app_commands.Choice(name=f"{p.title} ({len(p.problems)})"[:100], value=p.id)
            for p in bank if needle in p.id.lower() or needle in p.title.lower()][:MAX_CHOICES]
