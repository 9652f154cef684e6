"""Review cards: one FSRS card per member and problem they struggled with, kept up to date by
every later asking of that problem, whatever asked it.

The store keeps the cards; the core's rules (passed in, as the answer rules are) decide which
attempts make or review a card and compute its next due date. Nothing here knows FSRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.store.db import Conn, Database
from bot.store.records import AttemptFact


@dataclass(frozen=True)
class CardUpdate:
    """What one attempt did to a card: its new state and due date, and the rating it got."""

    card: str  # the fsrs Card as JSON
    due: float  # UNIX seconds
    rating: int | None  # None: a card made by a miss whose asking is not over yet


@dataclass(frozen=True)
class ReviewCard:
    """A member's card for one problem, as a review shows it."""

    problem_id: str
    pack_id: str
    due: float  # UNIX seconds
    last_rating: int | None  # fsrs Rating 1 Again .. 4 Easy; None before its first review
    reviews: int


@dataclass(frozen=True)
class ReviewSummary:
    """A member's review queue at one instant, for /profile."""

    due_now: int
    next_due: float | None  # the earliest due date still ahead; None when none is
    cards: int


class ReviewRules(Protocol):
    """The core's review rule, applied inside the attempt's transaction."""

    def review_card(self, card: str | None, fact: AttemptFact) -> CardUpdate | None:
        """The card after this attempt (None: the attempt leaves it as it is, or makes none)."""
        ...


class ReviewRepo:
    """An attempt observer that keeps the cards, and the queries a review needs."""

    def __init__(self, db: Database, rules: ReviewRules) -> None:
        self.db = db
        self.rules = rules

    def on_attempt(self, conn: Conn, fact: AttemptFact) -> None:
        row = conn.execute(
            "SELECT card FROM review_cards WHERE guild_id = ? AND member_id = ?"
            " AND problem_id = ?", (fact.guild_id, fact.member_id, fact.problem_id)).fetchone()
        update = self.rules.review_card(row[0] if row else None, fact)
        if update is not None:
            _save(conn, fact, update)

    async def due(self, guild_id: int, member_id: int, now: float,
                  limit: int) -> list[ReviewCard]:
        """The cards due at `now`, the longest overdue first."""
        rows = await self.db.fetchall(
            "SELECT problem_id, pack_id, due, last_rating, reviews FROM review_cards"
            " WHERE guild_id = ? AND member_id = ? AND due <= ? ORDER BY due, problem_id"
            " LIMIT ?", (guild_id, member_id, now, limit))
        return [ReviewCard(*row) for row in rows]

    async def card(self, guild_id: int, member_id: int, problem_id: str) -> ReviewCard | None:
        row = await self.db.fetchone(
            "SELECT problem_id, pack_id, due, last_rating, reviews FROM review_cards"
            " WHERE guild_id = ? AND member_id = ? AND problem_id = ?",
            (guild_id, member_id, problem_id))
        return ReviewCard(*row) if row else None

    async def summary(self, guild_id: int, member_id: int, now: float) -> ReviewSummary:
        row = await self.db.fetchone(
            "SELECT count(*) FILTER (WHERE due <= :now), min(due) FILTER (WHERE due > :now),"
            " count(*) FROM review_cards WHERE guild_id = :guild AND member_id = :member",
            {"now": now, "guild": guild_id, "member": member_id})
        assert row is not None  # an aggregate always returns its one row
        return ReviewSummary(due_now=row[0], next_due=row[1], cards=row[2])


def _save(conn: Conn, fact: AttemptFact, update: CardUpdate) -> None:
    rated = int(update.rating is not None)
    conn.execute(
        "INSERT INTO review_cards (guild_id, member_id, problem_id, pack_id, card, due,"
        " last_rating, reviews, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (guild_id, member_id, problem_id) DO UPDATE SET card = excluded.card,"
        " due = excluded.due,"
        " last_rating = coalesce(excluded.last_rating, review_cards.last_rating),"
        " reviews = review_cards.reviews + excluded.reviews",
        (fact.guild_id, fact.member_id, fact.problem_id, fact.pack_id, update.card,
         update.due, update.rating, rated, fact.answered_at))
