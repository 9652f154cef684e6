"""Review cards: one FSRS card per member and problem they struggled with, kept up to date by
every later asking of that problem, whatever asked it.

The store keeps the cards; the core's rules (passed in, as the answer rules are) decide which
attempts make or review a card and compute its next due date. Nothing here knows FSRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.store.batch_sql import StaleRead, arrays, unnest
from bot.store.db import Conn, Database, dialect
from bot.store.records import AttemptFact

CardKey = tuple[int, int, str]  # guild, member, problem
# One index lookup per card (OFFSET 0: never flattened into a scan of the whole table).
READ_CARDS = (
    "SELECT u.guild_id, u.member_id, u.problem_id, r.card FROM "
    + unnest("bigint", "bigint", "text") + " AS u(guild_id, member_id, problem_id)"
    " JOIN LATERAL (SELECT card FROM review_cards WHERE guild_id = u.guild_id"
    " AND member_id = u.member_id AND problem_id = u.problem_id OFFSET 0) AS r ON true")
# One statement: cards that were there, only if still as read (another transaction's review
# in between fails the batch: the count says so), and new ones (a card another transaction
# made meanwhile fails the INSERT).
WRITE_CARDS = (
    "WITH updated AS (UPDATE review_cards AS r SET card = d.card, due = d.due,"
    " last_rating = coalesce(d.rating, r.last_rating), reviews = r.reviews + d.reviews"
    " FROM " + unnest("bigint", "bigint", "text", "text", "float8", "int", "int", "text")
    + " AS d(guild_id, member_id, problem_id, card, due, rating, reviews, was)"
    " WHERE r.guild_id = d.guild_id AND r.member_id = d.member_id"
    " AND r.problem_id = d.problem_id AND r.card = d.was RETURNING 1),"
    " inserted AS (INSERT INTO review_cards (guild_id, member_id, problem_id, pack_id, card,"
    " due, last_rating, reviews, created_at) SELECT * FROM "
    + unnest("bigint", "bigint", "text", "text", "text", "float8", "int", "int", "float8")
    + ") SELECT count(*) FROM updated")


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

    def on_attempts(self, conn: Conn, facts: Sequence[AttemptFact]) -> None:
        """What on_attempt does for each fact in turn, with the cards read once, reviewed in
        memory in order, and each written once (PostgreSQL's batch of answers)."""
        if dialect(conn) != "postgres":
            for fact in facts:
                self.on_attempt(conn, fact)
            return
        if not facts:
            return
        keys = sorted({(f.guild_id, f.member_id, f.problem_id) for f in facts})
        read: dict[CardKey, str] = {
            (g, m, p): card for g, m, p, card in conn.execute(READ_CARDS, arrays(keys, 3))}
        changes: dict[CardKey, CardChange] = {}
        for fact in facts:
            key = (fact.guild_id, fact.member_id, fact.problem_id)
            change = changes.get(key)
            update = self.rules.review_card(change.card if change else read.get(key), fact)
            if update is None:
                continue
            if change is None:
                change = changes[key] = CardChange(fact, read.get(key))
            change.review(update)
        _write_cards(conn, changes)

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


class CardChange:
    """What a batch's attempts did to one card: its last state, and what they added."""

    def __init__(self, first: AttemptFact, was: str | None) -> None:
        self.was = was  # as read; None: no card yet, this batch makes it
        self.pack_id, self.created_at = first.pack_id, first.answered_at  # a new card's
        self.card, self.due = "", 0.0
        self.rating: int | None = None  # the latest rating, if any attempt rated it
        self.reviews = 0

    def review(self, update: CardUpdate) -> None:
        self.card, self.due = update.card, update.due
        if update.rating is not None:
            self.rating = update.rating
            self.reviews += 1


def _write_cards(conn: Conn, changes: dict[CardKey, CardChange]) -> None:
    if not changes:
        return
    old = [(*key, c.card, c.due, c.rating, c.reviews, c.was)
           for key, c in changes.items() if c.was is not None]
    new = [(*key, c.pack_id, c.card, c.due, c.rating, c.reviews, c.created_at)
           for key, c in changes.items() if c.was is None]
    written = conn.execute(WRITE_CARDS, (*arrays(old, 8), *arrays(new, 9))).fetchone()
    if written[0] != len(old):
        raise StaleRead(f"review_cards: {written[0]} of {len(old)} rows as read")


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
