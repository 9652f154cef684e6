"""Review cards: made by misses and hints in any mode, reviewed by every later asking, and
served in the order of their FSRS due dates as the clock moves on."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core.review import ReviewService
from bot.store.records import AttemptFact
from tests.store.conftest import GUILD

DAY = 86_400.0
T0 = 1_000_000.0


def fact(problem_id: str, at: float, *, mode: str = "practice", correct: bool = True,
         final: bool = True, attempt_no: int = 1, hint_used: bool = False,
         elapsed: float = 30.0, time_limit: float | None = None,
         member_id: int = 7) -> AttemptFact:
    return AttemptFact(guild_id=GUILD, member_id=member_id, mode=mode, pack_id="pack",
                       problem_id=problem_id, attempt_no=attempt_no, choice="B",
                       correct=correct, final=final, hint_used=hint_used, elapsed=elapsed,
                       time_limit=time_limit, answered_at=at)


@pytest.fixture
def observe(store):
    async def observe_(*facts: AttemptFact) -> None:
        for f in facts:
            await store.db.transaction(lambda c, f=f: store.reviews.on_attempt(c, f))
    return observe_


@pytest.fixture
def clock():
    return [T0]


@pytest.fixture
def review(store, clock):
    return ReviewService(store, lambda: clock[0])


async def test_a_miss_in_a_challenge_makes_a_card_and_its_final_answer_rates_it(
        service, open_challenge, review):
    ch = await open_challenge("pack-0")
    await service.answer(ch.id, 7, "A", ch.opened_at + 10, "i-1")
    made = await review.card(GUILD, 7, "pack-0")
    assert made is not None and (made.last_rating, made.reviews) == (None, 0)
    assert made.due == ch.opened_at + 10  # due at once: an unfinished asking still counts
    await service.answer(ch.id, 7, "B", ch.opened_at + 20, "i-2")
    rated = await review.card(GUILD, 7, "pack-0")
    assert rated is not None and (rated.last_rating, rated.reviews) == (Rating.Hard, 1)
    assert rated.due > ch.opened_at + 20


async def test_a_right_first_try_in_a_challenge_makes_no_card(service, open_challenge, review):
    ch = await open_challenge("pack-0")
    await service.answer(ch.id, 8, "B", ch.opened_at + 60, "i-1")
    assert await review.card(GUILD, 8, "pack-0") is None


async def test_a_later_challenge_on_the_problem_reviews_the_existing_card(
        service, open_challenge, review):
    first = await open_challenge("pack-0", now=T0)
    await service.answer(first.id, 7, "A", T0 + 5, "i-1")
    await service.answer(first.id, 7, "C", T0 + 9, "i-2")  # out of tries: Again
    again = await open_challenge("pack-0", now=T0 + 3 * DAY)
    await service.answer(again.id, 7, "B", T0 + 3 * DAY + 4, "i-3")  # within a fifth: Easy
    card = await review.card(GUILD, 7, "pack-0")
    assert card is not None and (card.last_rating, card.reviews) == (Rating.Easy, 2)


@pytest.mark.parametrize("mode", ["practice", "badge_run", "review"])
async def test_a_miss_in_any_mode_makes_a_card(mode, observe, review):
    await observe(fact("pack-1", T0, mode=mode, correct=False, final=True))
    card = await review.card(GUILD, 7, "pack-1")
    assert card is not None and card.last_rating == Rating.Again


async def test_a_hint_in_a_badge_run_makes_a_hard_card(observe, review):
    await observe(fact("pack-1", T0, mode="badge_run", hint_used=True, time_limit=60.0))
    card = await review.card(GUILD, 7, "pack-1")
    assert card is not None and card.last_rating == Rating.Hard


async def test_a_right_first_try_in_practice_makes_no_card(observe, review):
    await observe(fact("pack-1", T0, mode="practice", elapsed=1.0))
    assert await review.card(GUILD, 7, "pack-1") is None


async def test_untimed_practice_never_rates_easy_but_a_quick_timed_review_does(observe, review):
    await observe(fact("pack-1", T0, correct=False),
                  fact("pack-1", T0 + DAY, mode="practice", elapsed=1.0))
    assert (await review.card(GUILD, 7, "pack-1")).last_rating == Rating.Good
    await observe(fact("pack-1", T0 + 5 * DAY, mode="review", elapsed=1.0, time_limit=60.0))
    card = await review.card(GUILD, 7, "pack-1")
    assert (card.last_rating, card.reviews) == (Rating.Easy, 3)


async def test_only_the_final_attempt_of_an_asking_reviews_the_card(observe, review):
    await observe(fact("pack-1", T0, correct=False))
    before = await review.card(GUILD, 7, "pack-1")
    await observe(fact("pack-1", T0 + DAY, mode="review", correct=False, final=False))
    assert await review.card(GUILD, 7, "pack-1") == before
    await observe(fact("pack-1", T0 + DAY + 9, mode="review", attempt_no=2))
    after = await review.card(GUILD, 7, "pack-1")
    assert (after.last_rating, after.reviews) == (Rating.Hard, 2)


# Each problem's history: (when, what the member did), and the ratings FSRS should see.
HISTORIES = {
    "again-once": ([fact("again-once", T0, correct=False)], [Rating.Again]),
    "hint-then-good": ([fact("hint-then-good", T0 - 2 * DAY, hint_used=True),
                        fact("hint-then-good", T0 - DAY, mode="review")],
                       [Rating.Hard, Rating.Good]),
    "easy-streak": ([fact("easy-streak", T0 - 20 * DAY, mode="badge_run", correct=False),
                     fact("easy-streak", T0 - 15 * DAY, mode="review", elapsed=2.0,
                          time_limit=60.0),
                     fact("easy-streak", T0 - 5 * DAY, mode="review", elapsed=2.0,
                          time_limit=60.0)],
                    [Rating.Again, Rating.Easy, Rating.Easy]),
    "second-try": ([fact("second-try", T0 - 3 * DAY, mode="challenge", attempt_no=2,
                         time_limit=120.0),
                    fact("second-try", T0 - 2 * DAY, mode="review")],
                   [Rating.Hard, Rating.Good]),
    "left-unfinished": ([fact("left-unfinished", T0 - DAY, correct=False, final=False)], []),
}


def fsrs_due(history: list[AttemptFact], ratings: list[Rating]) -> float:
    """The due date FSRS itself gives this history, worked out here without our code."""
    scheduler = Scheduler(desired_retention=0.9, enable_fuzzing=False)
    card = Card(card_id=1, due=datetime.fromtimestamp(history[0].answered_at, UTC))
    rated = history[-len(ratings):] if ratings else []
    for asking, rating in zip(rated, ratings, strict=True):
        card, _ = scheduler.review_card(card, rating,
                                        datetime.fromtimestamp(asking.answered_at, UTC))
    return card.due.timestamp()


async def test_review_serves_cards_in_fsrs_due_order_as_the_clock_advances(
        observe, review, clock):
    for history, _ in HISTORIES.values():
        await observe(*history)
    expected = {pid: fsrs_due(*h) for pid, h in HISTORIES.items()}
    assert len(set(expected.values())) == len(expected)  # distinct: one order to check
    checkpoints = sorted({T0, *expected.values(), max(expected.values()) + DAY})
    for now in [T0 - DAY, *checkpoints, T0 + 400 * DAY]:
        clock[0] = now
        due = [card.problem_id for card in await review.due(GUILD, 7, limit=50)]
        assert due == sorted((p for p, d in expected.items() if d <= now),
                             key=expected.__getitem__), now
    clock[0] = T0
    assert (await review.due(GUILD, 7, limit=2)) == (await review.due(GUILD, 7, limit=50))[:2]


async def test_the_summary_counts_the_due_cards_and_says_when_the_next_one_comes(
        observe, review):
    await observe(fact("a", T0, correct=False), fact("b", T0, hint_used=True),
                  fact("c", T0 - 3 * DAY, correct=False), fact("c", T0 - 2 * DAY),
                  fact("c", T0 - DAY))
    a, b, c = [await review.card(GUILD, 7, p) for p in "abc"]
    assert T0 < a.due < b.due < T0 + 3600 < c.due  # learning steps, then days
    now = await review.summary(GUILD, 7, now=T0)
    assert (now.due_now, now.next_due, now.cards) == (0, a.due, 3)
    later = await review.summary(GUILD, 7, now=T0 + 3600)
    assert (later.due_now, later.next_due, later.cards) == (2, c.due, 3)
    empty = await review.summary(GUILD, 8, now=T0)
    assert (empty.due_now, empty.next_due, empty.cards) == (0, None, 0)


async def test_a_member_sees_only_their_own_cards(observe, review):
    await observe(fact("a", T0, correct=False), fact("b", T0, correct=False, member_id=8),
                  replace(fact("c", T0, correct=False), guild_id=GUILD + 1))
    due = await review.due(GUILD, 7, now=T0 + 400 * DAY)
    assert [c.problem_id for c in due] == ["a"]
