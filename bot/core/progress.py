"""Progress a member can look at: leaderboards and profiles, read from maintained totals."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.periods import Period, period_key
from bot.core.zones import stored_zone
from bot.store import Store
from bot.store.records import Leaderboard, Profile

PAGE_SIZE = 10


class ProgressService:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    async def leaderboard(self, guild_id: int, period: Period, scope: str, page: int,
                          member_id: int) -> Leaderboard:
        """One page of the period that contains now (in the server's zone), and the member's
        own rank."""
        timezone = (await self.store.settings.get(guild_id)).timezone
        return await self.store.leaderboard.page(
            guild_id, period_key(period, self.clock(), stored_zone(timezone)), scope=scope,
            limit=PAGE_SIZE,
            offset=max(0, page) * PAGE_SIZE, member_id=member_id)

    async def seen_per_pack(self, guild_id: int) -> dict[str, int]:
        """How many distinct problems of each pack the server has had as challenges."""
        return await self.store.challenges.seen_per_pack(guild_id)

    async def profile(self, guild_id: int, member_id: int) -> Profile:
        return await self.store.profiles.get(guild_id, member_id)
