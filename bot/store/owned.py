"""What one process's reveal timers are for: the challenges of the shards it runs.

A server's shard is `(guild_id >> 22) % count` (Discord's rule), computed in the query so a
process reads only its own servers' rows. Both queries walk a partial index that holds only
the rows they can return (open challenges; closed ones not yet revealed), never the table.
"""

from __future__ import annotations

from bot.store.db import Database

Shards = tuple[int, tuple[int, ...]] | None  # (count, the ids run here); None: every shard


def _in_shards(shards: Shards) -> tuple[str, tuple[int, ...]]:
    """The WHERE clause's shard part and its parameters; nothing for every shard."""
    if shards is None:
        return "", ()
    count, ids = shards
    marks = ", ".join("?" * len(ids))
    return f" AND (guild_id >> 22) % ? IN ({marks})", (count, *ids)


class OwnedChallengeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open_ones(self, shards: Shards) -> list[tuple[int, float]]:
        """(id, deadline) of every open challenge in these shards, soonest deadline first."""
        clause, params = _in_shards(shards)
        rows = await self.db.fetchall(
            f"SELECT id, deadline FROM challenges WHERE closed_at IS NULL{clause}"
            " ORDER BY deadline", params)
        return [(int(r[0]), float(r[1])) for r in rows]

    async def unrevealed(self, shards: Shards) -> list[int]:
        """Ids of the closed challenges in these shards whose reveal was never shown."""
        clause, params = _in_shards(shards)
        rows = await self.db.fetchall(
            "SELECT id FROM challenges WHERE closed_at IS NOT NULL AND revealed_at IS NULL"
            f"{clause} ORDER BY id", params)
        return [int(r[0]) for r in rows]
