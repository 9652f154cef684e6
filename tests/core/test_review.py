"""The review rule: how an asking is rated, which askings make a card, and what FSRS makes
of it."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core.review import SpacedReview, rating_for, struggled
from bot.store.records import AttemptFact

T0 = 1_000_000.0
FACT = AttemptFact(guild_id=1, member_id=2, mode="challenge", pack_id="pack",
                   problem_id="pack-0", attempt_no=1, choice="B", correct=True, final=True,
                   hint_used=False, elapsed=60.0, time_limit=120.0, answered_at=T0)


def asking(**changes) -> AttemptFact:
    return replace(FACT, **changes)


@pytest.mark.parametrize(("outcome", "rating"), [
    (asking(correct=False, final=True, attempt_no=2), Rating.Again),
    (asking(correct=False, final=True, attempt_no=1, time_limit=None), Rating.Again),
    (asking(correct=False, final=True, elapsed=1.0), Rating.Again),  # quick but wrong
    (asking(hint_used=True), Rating.Hard),
    (asking(hint_used=True, elapsed=1.0), Rating.Hard),  # quick, but with a hint
    (asking(attempt_no=2, elapsed=5.0), Rating.Hard),  # right on the second try
    (asking(elapsed=60.0), Rating.Good),
    (asking(elapsed=24.1), Rating.Good),  # just past the first fifth of 120 s
    (asking(elapsed=24.0), Rating.Easy),  # at the end of the first fifth
    (asking(elapsed=3.0), Rating.Easy),
    (asking(elapsed=3.0, time_limit=None), Rating.Good),  # untimed: never Easy
    (asking(elapsed=3.0, time_limit=None, mode="practice"), Rating.Good),
    (asking(elapsed=0.0, time_limit=0.0), Rating.Good),  # a zero timer has no first fifth
])
def test_each_outcome_of_an_asking_maps_to_its_rating(outcome, rating):
    assert rating_for(outcome) == rating


def test_an_attempt_that_leaves_tries_is_not_rated():
    assert rating_for(asking(correct=False, final=False)) is None


@pytest.mark.parametrize(("outcome", "makes_card"), [
    (asking(correct=False, final=False), True),
    (asking(correct=False, final=True), True),
    (asking(attempt_no=2), True),
    (asking(hint_used=True), True),
    (asking(elapsed=3.0), False),
    (asking(), False),
])
def test_only_a_miss_or_a_hint_puts_a_problem_into_review(outcome, makes_card):
    assert struggled(outcome) is makes_card


def test_a_right_first_try_without_a_card_makes_none():
    assert SpacedReview().review_card(None, asking()) is None


def test_a_miss_with_tries_left_makes_an_unrated_card_due_at_once():
    update = SpacedReview().review_card(None, asking(correct=False, final=False))
    assert update is not None
    assert (update.rating, update.due) == (None, T0)
    assert Card.from_json(update.card).last_review is None


def test_a_miss_with_tries_left_leaves_an_existing_card_alone():
    review = SpacedReview()
    made = review.review_card(None, asking(correct=False, final=True))
    assert made is not None
    assert review.review_card(made.card, asking(correct=False, final=False,
                                                answered_at=T0 + 86_400)) is None


def test_a_final_miss_is_scheduled_as_fsrs_schedules_again():
    update = SpacedReview().review_card(None, asking(correct=False, final=True))
    expected, _ = Scheduler(enable_fuzzing=False).review_card(
        Card(card_id=1, due=datetime.fromtimestamp(T0, UTC)), Rating.Again,
        datetime.fromtimestamp(T0, UTC))
    assert update is not None and update.rating == Rating.Again
    assert update.due == expected.due.timestamp()


def test_a_later_asking_reviews_the_card_from_where_it_stood():
    review = SpacedReview()
    made = review.review_card(None, asking(hint_used=True))
    assert made is not None
    later = review.review_card(made.card, asking(answered_at=T0 + 86_400))
    assert later is not None and later.rating == Rating.Good
    card = Card.from_json(later.card)
    assert card.last_review == datetime.fromtimestamp(T0 + 86_400, UTC)
    assert later.due > T0 + 86_400
