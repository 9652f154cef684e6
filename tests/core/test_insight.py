"""The item analysis rules: discrimination from sums, the flags, hardest first."""

from __future__ import annotations

import math
import statistics

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.insight import MIN_RESPONSES, ItemStats, hardest_first, point_biserial
from bot.store.insight import CorrelationSums, ItemTallies
from tests.factories import problem


def sums_of(pairs: list[tuple[int, float]]) -> CorrelationSums:
    return CorrelationSums(n=len(pairs), sum_x=sum(x for x, _ in pairs),
                           sum_y=sum(y for _, y in pairs), sum_yy=sum(y * y for _, y in pairs),
                           sum_xy=sum(x * y for x, y in pairs))


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20).map(lambda k: k / 20)),
                min_size=MIN_RESPONSES, max_size=60))
def test_discrimination_is_pearsons_r_of_right_and_accuracy_elsewhere(pairs):
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    assume(len(set(xs)) > 1 and len(set(ys)) > 1)
    assert math.isclose(point_biserial(sums_of(pairs)), statistics.correlation(xs, ys),
                        rel_tol=1e-9, abs_tol=1e-9)


def test_discrimination_is_undefined_without_enough_responses_or_variation():
    assert point_biserial(sums_of([(1, 0.9), (0, 0.1), (1, 0.8), (0, 0.2)])) is None
    assert point_biserial(sums_of([(1, y / 10) for y in range(6)])) is None  # all right
    assert point_biserial(sums_of([(x % 2, 0.3) for x in range(6)])) is None  # same members
    assert point_biserial(sums_of([(x % 2, 0.1 + 0.2) for x in range(9)])) is None  # rounding


def stats(picks: dict[str, int], *, right: int = 3, discrimination_sums: CorrelationSums
          = CorrelationSums(), answer: str = "B") -> ItemStats:
    responses = sum(picks.values())
    return ItemStats.of(problem("p1", answer=answer), ItemTallies(
        "p1", asked=1, responses=responses, first_right=picks.get(answer, 0), end_right=right,
        picks=picks, sums=discrimination_sums))


def test_a_wrong_choice_picked_more_than_the_key_is_flagged():
    item = stats({"A": 1, "B": 2, "C": 3})
    assert item.wrong_favourite == "C" and item.flagged
    assert item.picks == {"A": 1, "B": 2, "C": 3, "D": 0}  # every choice, even unpicked


def test_a_tie_with_the_key_or_too_few_responses_is_not_flagged():
    assert stats({"B": 3, "C": 3}).wrong_favourite is None
    assert stats({"C": 4}).wrong_favourite is None  # 4 < MIN_RESPONSES
    assert not stats({"A": 1, "B": 4, "C": 1}).flagged


def test_negative_discrimination_is_flagged_and_undefined_is_not():
    backwards = sums_of([(1, 0.1), (1, 0.2), (0, 0.9), (0, 0.8), (1, 0.3), (0, 0.7)])
    item = stats({"B": 6}, discrimination_sums=backwards)
    assert item.discrimination is not None and item.discrimination < 0 and item.flagged
    assert not stats({"B": 6}).flagged  # no sums: n/a, never flagged


def test_hardest_first_puts_unanswered_problems_last_in_pack_order():
    def item(pid: str, responses: int, first: int, end: int) -> ItemStats:
        return ItemStats.of(problem(pid), ItemTallies(pid, responses=responses,
                                                      first_right=first, end_right=end))
    easy, hard, harder = item("easy", 10, 9, 10), item("hard", 10, 2, 5), item("hx", 10, 1, 5)
    unseen_a, unseen_b = item("ua", 0, 0, 0), item("ub", 0, 0, 0)
    ordered = hardest_first([unseen_a, easy, hard, unseen_b, harder])
    assert [i.problem.id for i in ordered] == ["hx", "hard", "easy", "ua", "ub"]
    assert unseen_a.end_share is None and hard.end_share == 0.5
