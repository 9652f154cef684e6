"""Spaced review: which askings put a problem into a member's review, how each asking is
rated, and when the card comes back, scheduled by FSRS (the `fsrs` package).

An asking is one showing of a problem to a member (a challenge, a practice step, a badge-run
step, a review step); it ends with its final attempt, right or out of tries. One asking is
one review: only its final attempt is rated. The rating:

- wrong in the end: Again;
- right, but after a wrong try or with a hint: Hard (it needed help to get there);
- right at once within the first fifth of a timed asking: Easy (never when untimed);
- right at once otherwise: Good.

A problem gets a card when a member misses it (one wrong try is enough) or needs a hint;
a right first try without a hint makes none. Once a card exists, every later asking of that
problem, in any mode, reviews it. A miss makes the card at once, unrated and due at once, so
an asking left unfinished (a closed challenge, a timed-out run) still brings the problem back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler

from bot.store import Store
from bot.store.records import AttemptFact
from bot.store.review import CardUpdate, ReviewCard, ReviewSummary

EASY_FRACTION = 0.2  # right within this share of the timer rates Easy
DESIRED_RETENTION = 0.9  # fsrs's default: the chance of still knowing it when it comes due
REVIEW_BATCH = 10  # cards one /review serves at most


def rating_for(fact: AttemptFact) -> Rating | None:
    """The rating of the asking this attempt ends; None when the asking goes on."""
    if not fact.final:
        return None
    if not fact.correct:
        return Rating.Again
    if fact.attempt_no > 1 or fact.hint_used:
        return Rating.Hard
    if answered_quickly(fact):
        return Rating.Easy
    return Rating.Good


def answered_quickly(fact: AttemptFact) -> bool:
    """Within the first fifth of the asking's timer; an untimed asking has no fifth."""
    limit = fact.time_limit
    return limit is not None and limit > 0 and fact.elapsed <= EASY_FRACTION * limit


def struggled(fact: AttemptFact) -> bool:
    """A miss or a hint: what puts a problem into the member's review."""
    return not fact.correct or fact.attempt_no > 1 or fact.hint_used


def review_scheduler() -> Scheduler:
    """FSRS with its default parameters; no fuzz, so a history always gives the same dates."""
    return Scheduler(desired_retention=DESIRED_RETENTION, enable_fuzzing=False)


def utc(seconds: float) -> datetime:
    # fsrs accepts only datetimes whose tzinfo is timezone.utc itself
    return datetime.fromtimestamp(seconds, tz=UTC)


def new_card(created_at: float) -> Card:
    """A card due at once. Its id is its creation time, as fsrs's own default would be, but
    from our clock: fsrs's default reads the wall clock and sleeps a millisecond."""
    return Card(card_id=int(created_at * 1000), due=utc(created_at))


class SpacedReview:
    """The review rule the store applies to every stored attempt (its ReviewRules)."""

    def __init__(self, scheduler: Scheduler | None = None) -> None:
        self.scheduler = scheduler or review_scheduler()

    def review_card(self, card: str | None, fact: AttemptFact) -> CardUpdate | None:
        rating = rating_for(fact)
        if card is None:
            if not struggled(fact):
                return None
            made = new_card(fact.answered_at)
            if rating is None:  # wrong, with tries left: the final attempt will rate it
                return CardUpdate(made.to_json(), fact.answered_at, None)
            return self._review(made, rating, fact.answered_at)
        if rating is None:
            return None
        return self._review(Card.from_json(card), rating, fact.answered_at)

    def _review(self, card: Card, rating: Rating, at: float) -> CardUpdate:
        reviewed, _ = self.scheduler.review_card(card, rating, utc(at))
        return CardUpdate(reviewed.to_json(), reviewed.due.timestamp(), int(rating))


class ReviewService:
    """What /review and /profile ask about a member's review queue."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    async def due(self, guild_id: int, member_id: int, now: float | None = None,
                  limit: int = REVIEW_BATCH) -> list[ReviewCard]:
        """The cards due now (or at `now`), the longest overdue first."""
        return await self.store.reviews.due(guild_id, member_id, self._now(now), limit)

    async def summary(self, guild_id: int, member_id: int,
                      now: float | None = None) -> ReviewSummary:
        """How many cards are due now, and when the next one after that comes due."""
        return await self.store.reviews.summary(guild_id, member_id, self._now(now))

    async def card(self, guild_id: int, member_id: int, problem_id: str) -> ReviewCard | None:
        """The member's card for a problem (its next due date after an answer), if any."""
        return await self.store.reviews.card(guild_id, member_id, problem_id)

    def _now(self, now: float | None) -> float:
        return self.clock() if now is None else now
