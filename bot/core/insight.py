"""Item analysis for organisers: how each problem works in one server (/stats problem, pack).

Definitions (the property tests compare with a brute force of exactly these):

- Counted modes: group challenges and badge runs, which are timed and scored. Practice and
  review are left out: untimed, with unlimited tries, they would blur every figure.
- An *asking* is one challenge of the problem, or one badge-run step on it. A *response* is
  one member's attempts within one asking. *Times asked* counts askings with at least one
  response (a challenge nobody answered taught us nothing about the problem).
- *Right on the first try*: the response's attempt 1 is correct. *Right in the end*: any of its
  attempts is correct. Both are shares of responses.
- *Picks per choice*: over first attempts (later ones are shaped by the first being wrong).
- *Median time to a right answer*: over correct attempts, the seconds from the problem being
  shown (a challenge's opening, a badge-run step's start) to the answer.
- *Hint use*: the share of responses with the hint shown before one of their attempts.
- *Discrimination*: over responses, X = right in the end (0/1) and Y = that member's share of
  right-in-the-end over their responses to *other* problems (same server, counted modes);
  members with no other responses are left out. The Pearson correlation of X and Y, which for
  a 0/1 X is the point-biserial correlation. Undefined ("n/a", never flagged) with fewer than
  MIN_RESPONSES responses, or when X or Y does not vary.
- Flags, each needing MIN_RESPONSES responses: discrimination below zero (the members who do
  well elsewhere miss this one more often), or a wrong choice picked more often than the key on
  first tries. Both are classic signs of a wrong key or an ambiguous problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.bank import Bank, Pack, Problem
from bot.core.errors import UnknownPack, UnknownProblem
from bot.store import Store
from bot.store.insight import CorrelationSums, ItemTallies

MIN_RESPONSES = 5
# Y's variance below this share of its scale is rounding, not members who differ.
_RELATIVE_EPSILON = 1e-9


def point_biserial(sums: CorrelationSums) -> float | None:
    """Pearson's r of X and Y from their sums; None where it is undefined (see above)."""
    n = sums.n
    if n < MIN_RESPONSES:
        return None
    spread_x = n * sums.sum_x - sums.sum_x ** 2  # sum of X² = sum of X for a 0/1 X
    spread_y = n * sums.sum_yy - sums.sum_y ** 2
    if spread_x <= 0 or spread_y <= _RELATIVE_EPSILON * n * sums.sum_yy:
        return None
    r = (n * sums.sum_xy - sums.sum_x * sums.sum_y) / math.sqrt(spread_x * spread_y)
    return max(-1.0, min(1.0, r))


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ItemStats:
    """One problem's figures in one server, with what an organiser should check."""

    problem: Problem
    asked: int
    responses: int
    first_right: int
    end_right: int
    hinted: int
    picks: Mapping[str, int]  # every current choice, and any other one picked in the past
    median_right_s: float | None
    discrimination: float | None

    @classmethod
    def of(cls, problem: Problem, tallies: ItemTallies) -> ItemStats:
        picks = {letter: tallies.picks.get(letter, 0) for letter in problem.letters}
        picks.update(tallies.picks)
        return cls(problem, tallies.asked, tallies.responses, tallies.first_right,
                   tallies.end_right, tallies.hinted, dict(sorted(picks.items())),
                   tallies.median_right_s, point_biserial(tallies.sums))

    @property
    def first_share(self) -> float | None:
        return share(self.first_right, self.responses)

    @property
    def end_share(self) -> float | None:
        return share(self.end_right, self.responses)

    @property
    def hint_share(self) -> float | None:
        return share(self.hinted, self.responses)

    @property
    def enough(self) -> bool:
        return self.responses >= MIN_RESPONSES

    @property
    def negative_discrimination(self) -> bool:
        return self.discrimination is not None and self.discrimination < 0

    @property
    def wrong_favourite(self) -> str | None:
        """The wrong choice picked most on first tries, when it beats the current key."""
        if not self.enough:
            return None
        wrong = [letter for letter in self.picks if letter != self.problem.answer]
        if not wrong:
            return None
        favourite = min(wrong, key=lambda letter: (-self.picks[letter], letter))
        beaten = self.picks[favourite] > self.picks.get(self.problem.answer, 0)
        return favourite if beaten else None

    @property
    def flagged(self) -> bool:
        return self.negative_discrimination or self.wrong_favourite is not None


@dataclass(frozen=True)
class PackStats:
    pack: Pack
    items: tuple[ItemStats, ...]  # hardest first

    @property
    def flagged(self) -> int:
        return sum(item.flagged for item in self.items)


def hardest_first(items: list[ItemStats]) -> list[ItemStats]:
    """Lowest share right in the end first, then lowest first-try share; problems nobody
    answered yet go last, in pack order (sorted() keeps it for ties)."""
    def difficulty(item: ItemStats) -> tuple[int, float, float]:
        if item.responses == 0:
            return (1, 0.0, 0.0)
        return (0, item.end_share or 0.0, item.first_share or 0.0)
    return sorted(items, key=difficulty)


class InsightService:
    """/stats problem and /stats pack: figures per problem of one server."""

    def __init__(self, store: Store, bank: Bank) -> None:
        self.store, self.bank = store, bank

    async def problem(self, guild_id: int, problem_id: str) -> ItemStats:
        problem = self.bank.problems.get(problem_id)
        if problem is None:
            raise UnknownProblem(problem_id)
        [tallies] = await self.store.insight.tallies(guild_id, [problem.id])
        return ItemStats.of(problem, tallies)

    async def pack(self, guild_id: int, pack_id: str) -> PackStats:
        pack = self.bank.packs.get(pack_id)
        if pack is None:
            raise UnknownPack(pack_id)
        found = await self.store.insight.tallies(guild_id, [p.id for p in pack.problems])
        items = [ItemStats.of(p, t) for p, t in zip(pack.problems, found, strict=True)]
        return PackStats(pack, tuple(hardest_first(items)))
