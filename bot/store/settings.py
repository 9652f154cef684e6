"""Per-server settings."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from bot.store.db import Database
from bot.store.records import GuildSettings
from bot.store.rows import SETTINGS_COLUMNS, settings_from_row

# Every field but the key is a setting a server may change.
SETTING_COLUMNS = tuple(name for name, _ in SETTINGS_COLUMNS if name != "guild_id")
UPSERT = (f"INSERT INTO guild_settings (guild_id, {', '.join(SETTING_COLUMNS)})"
          f" VALUES (?{', ?' * len(SETTING_COLUMNS)}) ON CONFLICT (guild_id) DO UPDATE SET "
          + ", ".join(f"{c} = excluded.{c}" for c in SETTING_COLUMNS))


class SettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self.db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?",
                                     (guild_id,))
        return settings_from_row(row) if row else GuildSettings(guild_id)

    async def update(self, guild_id: int, **changes: Any) -> GuildSettings:
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        settings = replace(await self.get(guild_id), **changes)
        values = asdict(settings)
        await self.db.execute(UPSERT, (guild_id, *(values[c] for c in SETTING_COLUMNS)))
        return settings

    async def with_weekly_post(self) -> list[GuildSettings]:
        """Every server that has a weekly results post: what the scheduler rebuilds it from."""
        rows = await self.db.fetchall("SELECT * FROM guild_settings"
                                      " WHERE weekly_channel_id IS NOT NULL ORDER BY guild_id")
        return [settings_from_row(r) for r in rows]

    async def disabled_packs(self, guild_id: int) -> frozenset[str]:
        rows = await self.db.fetchall("SELECT pack_id FROM disabled_packs WHERE guild_id = ?",
                                      (guild_id,))
        return frozenset(r[0] for r in rows)

    async def set_pack_enabled(self, guild_id: int, pack_id: str, enabled: bool) -> None:
        if enabled:
            await self.db.execute("DELETE FROM disabled_packs WHERE guild_id = ? AND pack_id = ?",
                                  (guild_id, pack_id))
        else:
            await self.db.execute("INSERT INTO disabled_packs (guild_id, pack_id)"
                                  " VALUES (?, ?) ON CONFLICT DO NOTHING", (guild_id, pack_id))
