"""Which servers this process owns: those of the gateway shards it runs.

Discord sends a server's events (clicks, slash commands) only to the shard that server
belongs to, so the process running that shard is the one that answers its members and runs
its challenges' reveal timers. Any process may still send REST calls for any server: the
schedule leader posts scheduled challenges everywhere, and the owner arms their reveals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.owned import OwnedChallengeRepo, Shards


def shard_of(guild_id: int, count: int) -> int:
    """The shard a server belongs to, by Discord's rule (its id's timestamp bits)."""
    return (guild_id >> 22) % count


@dataclass(frozen=True)
class Ownership:
    """The shards this process runs: `ids` of `count` (None: every one; no count: a single
    unsharded connection). Only when other processes run some does it own fewer servers."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    @classmethod
    def of(cls, count: int | None, ids: Sequence[int] | None) -> Ownership:
        return cls(count, None if ids is None else tuple(sorted(set(ids))))

    @property
    def partial(self) -> bool:
        """Whether other processes run some shards: only then are servers shared out."""
        if self.count is None or self.ids is None:
            return False
        return set(self.ids) != set(range(self.count))

    def owns(self, guild_id: int) -> bool:
        if not self.partial:
            return True
        assert self.count is not None and self.ids is not None
        return shard_of(guild_id, self.count) in self.ids

    def describe(self) -> str:
        if self.count is None:
            return "every server on one gateway connection"
        if not self.partial:
            return f"every shard of {self.count}"
        assert self.ids is not None
        return f"shards {','.join(map(str, self.ids))} of {self.count}"


class OwnedChallenges:
    """The challenges whose timers this process runs: those of the servers it owns."""

    def __init__(self, repo: OwnedChallengeRepo, ownership: Ownership) -> None:
        self.repo, self.ownership = repo, ownership

    def _shards(self) -> Shards:
        if not self.ownership.partial:
            return None  # every server: no filter at all
        assert self.ownership.count is not None and self.ownership.ids is not None
        return self.ownership.count, self.ownership.ids

    async def open(self) -> list[tuple[int, float]]:
        """(id, deadline) of those still taking answers, soonest deadline first."""
        return await self.repo.open_ones(self._shards())

    async def unrevealed(self) -> list[int]:
        """Ids of those closed whose reveal was never shown (a crash, a failed edit)."""
        return await self.repo.unrevealed(self._shards())
