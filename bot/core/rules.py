"""The rules the store applies inside each answer's transaction."""

from __future__ import annotations

from bot.bank import KINDS, Bank
from bot.core.badges import STANDARD_BADGES, BadgeCatalogue, BadgeContext, pack_badge
from bot.core.challenge import judge, next_streak
from bot.core.periods import period_keys
from bot.core.review import SpacedReview
from bot.core.zones import stored_zone
from bot.store.records import AttemptFact, Challenge, MemberProgress, MemberSnapshot, Verdict
from bot.store.review import CardUpdate


def catalogue_for(bank: Bank) -> BadgeCatalogue:
    packs = [pack_badge(p.id, p.badge.name, p.badge.emoji, p.badge.description) for p in bank]
    return BadgeCatalogue([*STANDARD_BADGES, *packs])


class CoreRules:
    """Implements the store's rules (StoreRules) with the core's pure functions."""

    def __init__(self, catalogue: BadgeCatalogue, pack_sizes: dict[str, int]) -> None:
        self.catalogue = catalogue
        self.pack_sizes = pack_sizes
        self.spaced_review = SpacedReview()

    @classmethod
    def for_bank(cls, bank: Bank) -> CoreRules:
        return cls(catalogue_for(bank), bank.pack_sizes())

    def judge(self, challenge: Challenge, progress: MemberProgress, choice: str,
              now: float) -> Verdict:
        return judge(challenge, progress, choice, now)

    def next_streak(self, streak: int, verdict: Verdict) -> int:
        return next_streak(streak, verdict)

    def review_card(self, card: str | None, fact: AttemptFact) -> CardUpdate | None:
        return self.spaced_review.review_card(card, fact)

    def periods(self, now: float, timezone: str) -> list[str]:
        return period_keys(now, stored_zone(timezone))

    def new_badges(self, snapshot: MemberSnapshot, challenge: Challenge,
                   verdict: Verdict) -> list[str]:
        limit = challenge.time_limit or 1.0
        ctx = BadgeContext(
            streak=snapshot.streak, correct_total=snapshot.correct,
            first_try_total=snapshot.first_try,
            elapsed_percent=100.0 * verdict.elapsed / limit,
            kinds_correct=snapshot.kinds_correct, solved_in_pack=snapshot.solved_in_pack,
            pack_sizes=self.pack_sizes, all_kinds=frozenset(KINDS))
        return [b.id for b in self.catalogue.newly_earned(ctx, set(snapshot.badges))]
