"""Badge roles: the role, if any, that each badge brings a member of a server."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.badges import BadgeCatalogue, BadgeDef
from bot.store import Store

SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices


class UnknownBadge(ValueError):
    """A badge an admin typed that the catalogue lacks; `typed` may be any text at all."""

    def __init__(self, typed: str) -> None:
        super().__init__("no badge with that id or name")
        self.typed = typed


class BadgeRoleService:
    def __init__(self, store: Store, catalogue: BadgeCatalogue) -> None:
        self.store = store
        self.catalogue = catalogue

    def badge(self, typed: str) -> BadgeDef:
        """The badge with this id (what autocomplete sends) or, failing that, this id or name
        in any case; raises UnknownBadge."""
        found = self.catalogue.get(typed)
        wanted = typed.strip().casefold()
        found = found or next((b for b in self.catalogue
                               if wanted in (b.id.casefold(), b.name.casefold())), None)
        if found is None:
            raise UnknownBadge(typed)
        return found

    def suggestions(self, typed: str) -> list[BadgeDef]:
        """Badges whose id or name contains the typed text, at most 25."""
        wanted = typed.strip().casefold()
        return [b for b in self.catalogue
                if wanted in b.id.casefold() or wanted in b.name.casefold()][:SUGGESTIONS]

    async def link(self, guild_id: int, badge_id: str, role_id: int | None) -> int | None:
        """Links the badge to the role (None unlinks it); returns the role linked before."""
        before = (await self.store.badge_roles.of_guild(guild_id)).get(badge_id)
        await self.store.badge_roles.set(guild_id, badge_id, role_id)
        return before

    async def roles_for(self, guild_id: int, badge_ids: Iterable[str]) -> list[tuple[str, int]]:
        """(badge, role) for each of these badges that brings a role in this server."""
        wanted = list(badge_ids)
        if not wanted:
            return []
        linked = await self.store.badge_roles.of_guild(guild_id)
        return [(badge, linked[badge]) for badge in wanted if badge in linked]
