"""The optimizers-schedules pack's deciding functions: the real key for typical numbers, and
other letters for numbers that could plausibly have been measured. No training here; the
experiments themselves run under `tutorbot questions verify`."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import pytest

from bot.worker.child import load_script

PACK_ID = "optimizers-schedules"
EXPERIMENTS = Path(__file__).resolve().parents[3] / "questions" / PACK_ID / "experiments"


def script(name: str) -> ModuleType:
    return load_script(EXPERIMENTS / name)


@pytest.mark.parametrize("name", ["steplr.py", "zero_grad.py", "cosine.py"])
def test_printed_output_maps_to_the_choice_with_that_text(name: str) -> None:
    module = script(name)
    for letter, text in module.CHOICES.items():
        assert module.decide(text, module.CHOICES) == letter
    with pytest.raises(RuntimeError):
        module.decide("something else", module.CHOICES)


def test_steplr_key() -> None:
    module = script("steplr.py")
    assert module.decide("[1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]", module.CHOICES) == "C"


def test_zero_grad_key() -> None:
    module = script("zero_grad.py")
    assert module.decide("None 1.0", module.CHOICES) == "D"
    assert module.decide("tensor(2.) 0.4", module.CHOICES) == "A"


def test_cosine_key() -> None:
    module = script("cosine.py")
    assert module.decide("[0.5, 0.0, 0.5, 1.0]", module.CHOICES) == "A"
    assert module.decide("[0.5, 0.0, 0.0, 0.0]", module.CHOICES) == "B"


def test_step_order_maps_lists_and_exceptions() -> None:
    module = script("step_order.py")
    assert module.decide("[0.5, 0.25, 0.125]", None, module.CHOICES) == "A"
    assert module.decide("[1.0, 0.5, 0.25]", None, module.CHOICES) == "B"
    assert module.decide("[1.0, 1.0, 0.5]", None, module.CHOICES) == "D"
    assert module.decide(None, "RuntimeError: wrong order", module.CHOICES) == "C"
    with pytest.raises(RuntimeError):
        module.decide(None, "ValueError: something else", module.CHOICES)
    with pytest.raises(RuntimeError):
        module.decide("[0.25]", None, module.CHOICES)


def test_adamw_maps_both_printed_lines() -> None:
    module = script("adamw.py")
    assert module.decide("Adam 99.9\nAdamW 99.0", module.CHOICES) == "B"
    assert module.decide("Adam 99.0\nAdamW 99.0", module.CHOICES) == "A"
    assert module.decide("Adam 99.0\nAdamW 99.9", module.CHOICES) == "C"
    assert module.decide("Adam 100.0\nAdamW 99.0", module.CHOICES) == "D"
    with pytest.raises(RuntimeError):
        module.decide("Adam 99.9\nAdamW 99.9", module.CHOICES)


def test_onecycle_picks_the_only_cause_that_reproduces_the_log() -> None:
    module = script("onecycle.py")
    stuck = [0.004, 0.004, 0.0041, 0.0043]
    per_batch = [0.028, 0.076, 0.1, 0.095]
    assert module.reproduces(stuck) and not module.reproduces(per_batch)
    assert module.decide({"A": 0, "B": 0, "C": 0, "D": 3}, 3) == "D"
    assert module.decide({"A": 3, "B": 0, "C": 0, "D": 0}, 3) == "A"
    assert module.decide({"A": 0, "B": 3, "C": 0, "D": 1}, 3) == "B"
    assert module.decide({"A": 0, "B": 0, "C": 3, "D": 0}, 3) == "C"
    with pytest.raises(RuntimeError):
        module.decide({"A": 3, "B": 0, "C": 0, "D": 3}, 3)
    with pytest.raises(RuntimeError):
        module.decide({"A": 0, "B": 0, "C": 0, "D": 2}, 3)


def test_diverging_picks_the_arm_that_exploded() -> None:
    module = script("diverging.py")
    assert module.explodes([2.3, 204.0, 6.9e5])
    assert module.explodes([2.3, 5.0, math.nan])
    assert not module.explodes([2.3, 2.2, 2.1, 2.0])
    assert not module.explodes([2.3, 1.7, 3.0, 0.9])  # noisy, but never 10x its start
    assert module.decide({"A": 3, "B": 0, "C": 0, "D": 0}, 3) == "A"
    assert module.decide({"A": 0, "B": 3, "C": 0, "D": 0}, 3) == "B"
    assert module.decide({"A": 0, "B": 0, "C": 2, "D": 0}, 3) == "C"
    assert module.decide({"A": 1, "B": 0, "C": 0, "D": 3}, 3) == "D"
    with pytest.raises(RuntimeError):
        module.decide({"A": 0, "B": 0, "C": 0, "D": 0}, 3)
    with pytest.raises(RuntimeError):
        module.decide({"A": 3, "B": 0, "C": 0, "D": 3}, 3)


def test_too_low_lr_needs_a_clear_winner() -> None:
    module = script("too_low_lr.py")
    typical = {"A": 0.126, "B": 0.968, "C": 0.80, "D": 0.196}
    assert module.decide(typical) == "B"
    assert module.decide({"A": 0.13, "B": 0.70, "C": 0.92, "D": 0.2}) == "C"
    assert module.decide({"A": 0.40, "B": 0.2, "C": 0.25, "D": 0.3}) == "A"
    assert module.decide({"A": 0.1, "B": 0.2, "C": 0.25, "D": 0.6}) == "D"
    with pytest.raises(RuntimeError):
        module.decide({"A": 0.1, "B": 0.95, "C": 0.93, "D": 0.2})


def test_range_test_needs_a_clear_winner() -> None:
    module = script("range_test.py")
    assert module.decide({"A": 0.744, "B": 0.116, "C": 0.974, "D": 0.154}) == "C"
    assert module.decide({"A": 0.97, "B": 0.116, "C": 0.90, "D": 0.154}) == "A"
    assert module.decide({"A": 0.80, "B": 0.96, "C": 0.85, "D": 0.154}) == "B"
    assert module.decide({"A": 0.1, "B": 0.1, "C": 0.3, "D": 0.6}) == "D"
    with pytest.raises(RuntimeError):
        module.decide({"A": 0.96, "B": 0.1, "C": 0.97, "D": 0.15})


def test_range_test_readings() -> None:
    module = script("range_test.py")
    rates = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 3.0]
    smoothed = [2.3, 2.3, 2.0, 1.0, 0.5, 4.0]
    picks = module.readings(rates, smoothed)
    assert picks == {"A": 1.0, "B": 3.0, "C": 0.1, "D": 1e-4}
    assert module.loss_at(rates, smoothed, 0.12) == 1.0


def test_quadratic_maps_where_adam_wins() -> None:
    module = script("quadratic.py")
    aligned = {"Adam": 0.033, "SGD+momentum": 0.92, "SGD": 21.0}
    rotated = {"Adam": 5.1, "SGD+momentum": 0.94, "SGD": 29.0}
    assert module.decide(aligned, rotated) == "C"
    assert module.decide(aligned, {**rotated, "Adam": 0.1}) == "A"
    assert module.decide({**aligned, "Adam": 0.9}, rotated) == "B"
    assert module.decide({**aligned, "Adam": 0.9}, {**rotated, "Adam": 0.1}) == "D"
    # Within 2x is not "clearly lower".
    assert module.decide({**aligned, "Adam": 0.5}, rotated) == "B"
