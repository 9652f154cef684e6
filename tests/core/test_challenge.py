import pytest

from bot.core.challenge import judge, next_streak
from bot.core.errors import AlreadySolved, ChallengeClosed, InvalidChoice, NoAttemptsLeft
from bot.store.records import MemberProgress
from tests.factories import challenge

FRESH = MemberProgress()


def test_a_correct_first_answer_scores_and_ends_the_problem():
    verdict = judge(challenge(), FRESH, "B", now=1000.0 + 119)
    assert verdict.correct and verdict.final and verdict.attempt_no == 1
    assert verdict.points == 100


def test_a_wrong_answer_leaves_the_remaining_attempts():
    verdict = judge(challenge(attempts=2), FRESH, "A", now=1010.0)
    assert not verdict.correct and verdict.attempts_left == 1 and not verdict.final
    assert verdict.points == 0


def test_the_last_wrong_answer_is_final():
    verdict = judge(challenge(attempts=2), MemberProgress(attempts_used=1), "A", now=1010.0)
    assert verdict.final and verdict.attempts_left == 0


def test_no_answer_after_the_attempts_are_used():
    with pytest.raises(NoAttemptsLeft):
        judge(challenge(attempts=2), MemberProgress(attempts_used=2), "B", now=1010.0)


def test_no_answer_after_a_correct_one():
    with pytest.raises(AlreadySolved) as caught:
        judge(challenge(), MemberProgress(attempts_used=1, solved_points=120), "B", now=1010.0)
    assert caught.value.points == 120


def test_no_answer_at_or_after_the_deadline():
    with pytest.raises(ChallengeClosed):
        judge(challenge(time_limit=120), FRESH, "B", now=1120.0)


def test_no_answer_once_closed_early():
    with pytest.raises(ChallengeClosed):
        judge(challenge(closed_at=1005.0), FRESH, "B", now=1006.0)


def test_a_letter_that_was_not_posted_is_refused():
    with pytest.raises(InvalidChoice):
        judge(challenge(), FRESH, "E", now=1010.0)


def test_a_hint_lowers_the_points_of_that_member_only():
    with_hint = judge(challenge(), MemberProgress(hint_used=True), "B", now=1120.0 - 0.001)
    without = judge(challenge(), FRESH, "B", now=1120.0 - 0.001)
    assert with_hint.points == 75 and without.points == 100


def test_streak_grows_on_correct_breaks_on_final_wrong_and_holds_otherwise():
    ch = challenge(attempts=2)
    correct = judge(ch, FRESH, "B", now=1010.0)
    wrong_first = judge(ch, FRESH, "A", now=1010.0)
    wrong_last = judge(ch, MemberProgress(attempts_used=1), "A", now=1010.0)
    assert next_streak(4, correct) == 5
    assert next_streak(4, wrong_first) == 4
    assert next_streak(4, wrong_last) == 0
