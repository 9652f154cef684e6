"""Per-server settings."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from bot.store.db import Database
from bot.store.records import GuildSettings
from bot.store.rows import settings_from_row

SETTING_COLUMNS = ("challenge_channel_id", "time_limit", "scoring_mode", "hint_cost_percent",
                   "multiple_per_channel", "discussion_thread")


class SettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, guild_id: int) -> GuildSettings:
        rows = list(await self.db.conn.execute_fetchall(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)))
        return settings_from_row(rows[0]) if rows else GuildSettings(guild_id)

    async def update(self, guild_id: int, **changes: Any) -> GuildSettings:
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        settings = replace(await self.get(guild_id), **changes)
        values = asdict(settings)
        columns = ", ".join(SETTING_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in SETTING_COLUMNS)
        await self.db.conn.execute(
            f"INSERT INTO guild_settings (guild_id, {columns}) VALUES (?{', ?' * 6})"
            f" ON CONFLICT (guild_id) DO UPDATE SET {updates}",
            (guild_id, *(values[c] for c in SETTING_COLUMNS)))
        return settings
