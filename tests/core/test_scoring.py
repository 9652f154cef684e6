import pytest

from bot.core.scoring import (
    BASE_POINTS,
    ScoringMode,
    ScoringPolicy,
    hint_cost,
    points_for,
)

SPEED = ScoringPolicy(ScoringMode.SPEED, 25)
LEARNING = ScoringPolicy(ScoringMode.LEARNING, 25)


@pytest.mark.parametrize("difficulty", ["intermediate", "advanced", "expert"])
def test_harder_problems_are_worth_more_points(difficulty):
    assert points_for(difficulty, 1, False, 120, 120, SPEED) == BASE_POINTS[difficulty]


def test_an_instant_answer_earns_half_the_base_again_as_speed_bonus():
    assert points_for("intermediate", 1, False, 0, 120, SPEED) == 150


def test_the_speed_bonus_shrinks_linearly_with_time():
    assert points_for("intermediate", 1, False, 60, 120, SPEED) == 125


def test_learning_mode_scores_accuracy_only():
    assert points_for("intermediate", 1, False, 0, 120, LEARNING) == 100
    assert points_for("intermediate", 1, False, 119, 120, LEARNING) == 100


def test_a_second_attempt_is_worth_half():
    assert points_for("expert", 2, False, 120, 120, SPEED) == 100


def test_the_hint_costs_its_percentage():
    assert points_for("intermediate", 1, True, 120, 120, SPEED) == 75
    assert hint_cost("intermediate", SPEED) == 25


def test_a_free_hint_costs_nothing():
    free = ScoringPolicy(ScoringMode.SPEED, 0)
    assert points_for("advanced", 1, True, 120, 120, free) == 150


def test_hint_cost_outside_0_to_100_is_refused():
    with pytest.raises(ValueError):
        ScoringPolicy(ScoringMode.SPEED, 120)
