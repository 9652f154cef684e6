"""Per-server settings: the one door to them for commands, posts and the terminal."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.bank.model import TIME_LIMIT_RANGE
from bot.core.errors import LastPack, UnknownPack
from bot.core.weekly import canonical_hhmm, check_weekly_day
from bot.core.zones import UnknownZone, canonical_zone
from bot.store import Store
from bot.store.records import GuildSettings


class SettingRefused(ValueError):
    """A value a setting cannot take; the message is safe to show the admin."""


class SettingsService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def of(self, guild_id: int) -> GuildSettings:
        """The server's settings; a server that never changed one gets the defaults."""
        return await self.store.settings.get(guild_id)

    async def change(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Applies the changes (setting name -> value) and returns the settings now in force;
        raises SettingRefused, changing nothing, if a value is out of range."""
        if not changes:
            return await self.of(guild_id)
        check_time_limit(changes.get("time_limit"))
        changes = checked_zone(checked_weekly(changes))
        return await self.store.settings.update(guild_id, **changes)

    async def disabled_packs(self, guild_id: int) -> frozenset[str]:
        return await self.store.settings.disabled_packs(guild_id)

    async def set_pack_enabled(self, guild_id: int, pack_id: str, enabled: bool,
                               installed: Collection[str]) -> frozenset[str]:
        """Turns a pack on or off for the server's challenges and schedules; returns the packs
        now off. Raises UnknownPack, or LastPack rather than turning every pack off."""
        if pack_id not in installed:
            raise UnknownPack(pack_id)
        disabled = await self.disabled_packs(guild_id)
        if not enabled and set(installed) - disabled <= {pack_id}:
            raise LastPack("at least one pack must stay on")
        await self.store.settings.set_pack_enabled(guild_id, pack_id, enabled)
        return await self.disabled_packs(guild_id)

    async def with_weekly_post(self) -> list[GuildSettings]:
        return await self.store.settings.with_weekly_post()

    async def challenge_channels(self, guild_id: int, here: int) -> set[int]:
        """Where a challenge of this server may run, seen from channel `here`."""
        configured = (await self.of(guild_id)).challenge_channel_id
        return {here} if configured is None else {here, configured}


def check_time_limit(seconds: int | None) -> None:
    """None means each problem's own limit; otherwise the range a pack may use."""
    low, high = TIME_LIMIT_RANGE
    if seconds is not None and not low <= seconds <= high:
        raise SettingRefused(f"The time limit must be {low}–{high} seconds "
                             "(or 0 for each problem's own).")


def checked_weekly(changes: dict[str, Any]) -> dict[str, Any]:
    """The weekly post's day (0 Monday .. 6 Sunday) and time, the time stored as 'HH:MM'."""
    try:
        check_weekly_day(changes.get("weekly_day"))
        if changes.get("weekly_time") is not None:
            return {**changes, "weekly_time": canonical_hhmm(changes["weekly_time"])}
    except ValueError as exc:
        raise SettingRefused(str(exc)) from None
    return changes


def checked_zone(changes: dict[str, Any]) -> dict[str, Any]:
    """The server's zone stored as the zone database spells it ('europe/berlin' ->
    'Europe/Berlin'). The refusal names only real zones, never the text as typed, so it is
    safe to show as it is; the typed name stays on the UnknownZone it is raised from."""
    if changes.get("timezone") is None:
        return changes
    try:
        return {**changes, "timezone": canonical_zone(changes["timezone"])}
    except UnknownZone as exc:
        hint = f" Did you mean {', '.join(exc.suggestions)}?" if exc.suggestions else ""
        raise SettingRefused(f"I don't know that time zone.{hint} Use an IANA name such as "
                             "Europe/Berlin or America/New_York.") from exc
