"""Badges defined as data: each is a rule over a member's stats after an answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Rule(StrEnum):
    PACK_MASTERY = "pack_mastery"  # every problem of one pack answered correctly
    STREAK = "streak"  # this many correct answers in a row
    CORRECT_TOTAL = "correct_total"
    FIRST_TRY_TOTAL = "first_try_total"  # correct on the first attempt, no hint
    QUICK = "quick"  # correct within this share of the time limit (percent)
    ALL_KINDS = "all_kinds"  # a correct answer of every kind of problem


@dataclass(frozen=True)
class BadgeDef:
    id: str
    name: str
    emoji: str
    description: str
    rule: Rule
    threshold: int = 0
    pack_id: str | None = None


@dataclass(frozen=True)
class BadgeContext:
    """A member's stats right after a correct answer, as the rules need them."""

    streak: int
    correct_total: int
    first_try_total: int
    elapsed_percent: float
    kinds_correct: frozenset[str]
    solved_in_pack: dict[str, int] = field(default_factory=dict)
    pack_sizes: dict[str, int] = field(default_factory=dict)
    all_kinds: frozenset[str] = frozenset()


STANDARD_BADGES: tuple[BadgeDef, ...] = (
    BadgeDef("first-correct", "First Step", "👣", "Answer your first problem correctly.",
             Rule.CORRECT_TOTAL, 1),
    BadgeDef("streak-3", "On a Roll", "🔥", "Three correct answers in a row.", Rule.STREAK, 3),
    BadgeDef("streak-5", "Hot Streak", "⚡", "Five correct answers in a row.", Rule.STREAK, 5),
    BadgeDef("streak-10", "Unstoppable", "🌋", "Ten correct answers in a row.", Rule.STREAK, 10),
    BadgeDef("quick-draw", "Quick Draw", "⏱️",
             "A correct answer within the first 10% of the time.", Rule.QUICK, 10),
    BadgeDef("sharp-eye", "Sharp Eye", "🎯",
             "Ten answers right on the first try without a hint.", Rule.FIRST_TRY_TOTAL, 10),
    BadgeDef("well-rounded", "Well Rounded", "🧭",
             "A correct answer of every kind: conceptual, predict-output, model choice, "
             "hyperparameter and metrics.", Rule.ALL_KINDS),
    BadgeDef("half-century", "Half Century", "🏏", "Fifty correct answers.", Rule.CORRECT_TOTAL,
             50),
)


def pack_badge(pack_id: str, name: str, emoji: str, description: str) -> BadgeDef:
    return BadgeDef(f"pack:{pack_id}", name, emoji, description, Rule.PACK_MASTERY,
                    pack_id=pack_id)


def qualifies(badge: BadgeDef, ctx: BadgeContext) -> bool:
    match badge.rule:
        case Rule.PACK_MASTERY:
            size = ctx.pack_sizes.get(badge.pack_id or "", 0)
            return size > 0 and ctx.solved_in_pack.get(badge.pack_id or "", 0) >= size
        case Rule.STREAK:
            return ctx.streak >= badge.threshold
        case Rule.CORRECT_TOTAL:
            return ctx.correct_total >= badge.threshold
        case Rule.FIRST_TRY_TOTAL:
            return ctx.first_try_total >= badge.threshold
        case Rule.QUICK:
            return ctx.elapsed_percent <= badge.threshold
        case Rule.ALL_KINDS:
            return bool(ctx.all_kinds) and ctx.all_kinds <= ctx.kinds_correct
    return False


class BadgeCatalogue:
    """The standard badges plus one mastery badge per loaded pack."""

    def __init__(self, badges: Iterable[BadgeDef]) -> None:
        self.badges = {badge.id: badge for badge in badges}

    def __iter__(self):
        return iter(self.badges.values())

    def get(self, badge_id: str) -> BadgeDef | None:
        return self.badges.get(badge_id)

    def newly_earned(self, ctx: BadgeContext, already: set[str]) -> list[BadgeDef]:
        """Badges the member qualifies for now and did not hold before: each is awarded once."""
        return [b for b in self if b.id not in already and qualifies(b, ctx)]
