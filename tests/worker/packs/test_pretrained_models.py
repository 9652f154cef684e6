"""The first pack's deciding steps, fed doctored measurements: each can reach other letters.

verify runs the experiments for real and checks the key; these tests check that the step
from measurements to a letter is a real decision, not a constant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.worker.child import load_script

EXPERIMENTS = Path(__file__).resolve().parents[3] / "questions/pretrained-models/experiments"


@pytest.fixture(scope="module")
def script():
    return lambda name: load_script(EXPERIMENTS / f"{name}.py")


def test_trainable_params_maps_what_was_printed_to_its_choice(script):
    decide, choices = script("trainable_params").decide, script("trainable_params").CHOICES
    assert decide([5130, 5130, 5130], choices) == "A"
    assert decide([0, 0, 0], choices) == "D"
    assert decide([20480] * 3, choices) == "B"
    with pytest.raises(RuntimeError, match="matches no single choice"):
        decide([5130, 0, 5130], choices)
    with pytest.raises(RuntimeError):
        decide([42] * 3, choices)


STEP_COST = {"A": 0.02, "B": 0.02, "C": 0.02, "D": 0.30}  # ResNet152 vs MobileNetV2 steps


@pytest.mark.parametrize(("accuracy", "expected"), [
    ({"A": 0.55, "B": 0.90, "C": 0.60, "D": 0.91}, "B"),  # within tolerance: the cheap one
    ({"A": 0.55, "B": 0.85, "C": 0.60, "D": 0.92}, "D"),  # the large one clearly better
    ({"A": 0.55, "B": 0.80, "C": 0.81, "D": 0.70}, "C"),  # pretraining did not help
    ({"A": 0.90, "B": 0.70, "C": 0.60, "D": 0.80}, "A"),  # random weights did best
    ({"A": 0.90, "B": 0.60, "C": 0.60, "D": 0.91}, "A"),  # within tolerance and cheaper
])
def test_model_choice_counts_cost_once_and_can_pick_any_arm(script, accuracy, expected):
    assert script("model_choice").derive(accuracy, STEP_COST) == expected


def test_model_choice_between_equal_costs_takes_the_more_accurate(script):
    accuracy = {"A": 0.89, "B": 0.895, "C": 0.90, "D": 0.50}
    assert script("model_choice").derive(accuracy, STEP_COST) == "C"


def test_overfitting_reads_the_gap_and_what_the_remedies_did(script):
    derive = script("overfitting").derive
    assert derive(0.99, 0.70, 0.29, augmented_gap=0.20, more_data_gap=0.12) == "A"
    # A gap that did not widen still counts, when more data closes it.
    assert derive(0.99, 0.75, 0.24, augmented_gap=0.24, more_data_gap=0.15) == "A"
    # A gap that neither remedy narrows points at the model.
    assert derive(0.99, 0.70, 0.29, augmented_gap=0.28, more_data_gap=0.27) == "D"
    assert derive(0.60, 0.55, 0.05, augmented_gap=0.05, more_data_gap=0.04) == "B"
    assert derive(0.90, 0.93, -0.03, augmented_gap=-0.02, more_data_gap=-0.03) == "C"
    with pytest.raises(RuntimeError, match="did not reproduce"):
        derive(0.99, 0.95, 0.04, augmented_gap=0.03, more_data_gap=0.02)


def test_speedup_needs_fewer_steps_in_every_seed_and_equal_step_costs(script):
    derive = script("speedup").derive
    pre, scratch = [(40, True)] * 3, [(120, True), (150, False), (110, True)]
    assert derive(pre, scratch, [0.1] * 3, 0.85, time_ratio=1.0) == "D"
    assert derive(pre, scratch, [0.1] * 3, 0.85, time_ratio=2.0) == "B"  # cheaper steps
    assert derive(pre, scratch, [0.9] * 3, 0.85, time_ratio=1.0) == "C"  # no training needed
    with pytest.raises(RuntimeError, match="fewer steps"):
        derive([(40, True), (110, True), (40, True)], scratch, [0.1] * 3, 0.85, 1.0)


def test_learning_rates_needs_a_clear_lead_in_most_seeds(script):
    derive = script("learning_rates").derive
    scores = {"A": [0.50, 0.52, 0.48], "B": [0.10] * 3, "C": [0.85, 0.86, 0.84],
              "D": [0.80, 0.81, 0.83]}
    letter, lead, wins = derive(scores)
    assert (letter, wins) == ("C", 3) and lead == pytest.approx(0.0367, abs=1e-3)
    assert derive({**scores, "D": [0.90, 0.91, 0.89]})[0] == "D"
    assert derive({**scores, "A": [0.95, 0.95, 0.95]})[0] == "A"
    with pytest.raises(RuntimeError, match="not a clear winner"):
        derive({**scores, "D": [0.84, 0.85, 0.84]})  # a one-point lead is noise
    with pytest.raises(RuntimeError, match="best in 1 of 3"):
        derive({**scores, "C": [0.95, 0.80, 0.80], "D": [0.79, 0.81, 0.81]})
