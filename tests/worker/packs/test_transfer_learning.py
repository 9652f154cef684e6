"""The transfer-learning pack: each experiment's deciding step, fed doctored measurements.

No training here: `tutorbot questions verify` runs the experiments themselves. These tests
check that every deciding function returns the key for typical numbers and other letters for
other numbers a run could plausibly measure, and that the predict-output scripts run exactly
the pack's code and know its exact choices.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from bot.bank import load_pack
from bot.worker.child import load_script

PACK_ID = "transfer-learning"
PACK_DIR = Path(__file__).resolve().parents[3] / "questions" / PACK_ID
EXPERIMENTS = PACK_DIR / "experiments"


def script(name: str) -> ModuleType:
    return load_script(EXPERIMENTS / f"{name}.py")


@pytest.fixture(scope="module")
def problems():
    pack = load_pack(PACK_DIR / "pack.yaml")
    return {p.experiment.script.removesuffix(".py"): p for p in pack.problems if p.experiment}


def test_every_script_in_the_folder_is_used(problems):
    on_disk = {path.stem for path in EXPERIMENTS.glob("*.py")}
    assert on_disk == set(problems)


# Predict-output: the script runs the pack's code and the printed text picks the letter.
PREDICT = ["frozen_bn_stats", "head_in_features", "wrong_head_attr", "unfreeze_optimizer"]


@pytest.mark.parametrize("name", PREDICT)
def test_script_runs_the_packs_code_and_knows_its_choices(name, problems):
    module, problem = script(name), problems[name]
    assert module.SNIPPET.strip() == (problem.code or "").strip()
    assert dict(module.CHOICES) == dict(problem.choices)
    assert len(module.SNIPPET.strip().splitlines()) <= 15


@pytest.mark.parametrize("name", PREDICT)
def test_every_printed_choice_gives_its_letter(name, problems):
    module = script(name)
    for letter, text in module.CHOICES.items():
        assert module.decide(text + "\n") == letter
    assert module.decide(module.CHOICES[problems[name].answer]) == problems[name].answer


@pytest.mark.parametrize("name", PREDICT)
def test_unmatched_output_raises(name):
    with pytest.raises(ValueError):
        script(name).decide("something else")


def test_run_snippet_reports_an_error_as_a_traceback_ends():
    printed, _ = script("wrong_head_attr").run_snippet("print('a')\nraise KeyError('x')\n")
    assert printed == "a\nKeyError: 'x'"


# Measured experiments: typical numbers give the key, other plausible numbers other letters.

def test_fe_vs_ft():
    decide = script("fe_vs_ft").decide
    assert decide(0.74, 0.67, 0.87, 0.91) == "C"  # as measured: FE ahead small, FT ahead large
    assert decide(0.70, 0.75, 0.85, 0.92) == "A"  # fine-tuning ahead at both sizes
    assert decide(0.74, 0.67, 0.88, 0.89) == "B"  # a 1-point lead is not worth fine-tuning
    assert decide(0.66, 0.72, 0.90, 0.88) == "D"
    assert decide(0.70, 0.71, 0.85, 0.87) == "C"  # a 2-point lead at 100/class is enough


def test_which_blocks():
    decide = script("which_blocks").decide
    assert decide(0.89, 0.84, 0.85) == "D"  # as measured: the last two blocks ahead
    assert decide(0.84, 0.89, 0.85) == "A"
    assert decide(0.875, 0.87, 0.85) == "B"  # within a point of each other
    assert decide(0.80, 0.79, 0.85) == "C"  # both pairs below the head alone


def test_bn_small_batch():
    decide = script("bn_small_batch").decide
    assert decide({"A": 0.76, "B": 0.64, "C": 0.81}) == "C"  # as measured: eval mode best
    assert decide({"A": 0.84, "B": 0.72, "C": 0.81}) == "A"
    assert decide({"A": 0.76, "B": 0.85, "C": 0.81}) == "B"
    assert decide({"A": 0.82, "B": 0.75, "C": 0.81}) == "D"  # best lead under 2 points


def test_forgetting():
    module = script("forgetting")
    assert module.decide(0.023, 0.0) == "C"  # as measured: fine-tuning lost 2.3 points
    assert module.decide(0.002, 0.0) == "A"
    assert module.decide(0.03, 0.01) == "B"
    assert module.decide(-0.02, 0.0) == "D"
    with pytest.raises(ValueError):
        module.decide(0.0, 0.02)  # only the frozen backbone forgot: no choice says that


def test_freeze_two_ways():
    decide = script("freeze_two_ways").decide
    typical = {"backbone_changed": (False, False), "bn_changed": (True, True),
               "grad_values": (5_130, 11_181_642)}
    assert decide(**typical) == "A"
    assert decide(**{**typical, "backbone_changed": (False, True)}) == "B"
    assert decide(**{**typical, "grad_values": (5_130, 5_130)}) == "C"
    assert decide(**{**typical, "bn_changed": (False, True)}) == "D"
    with pytest.raises(RuntimeError):
        decide(**{**typical, "backbone_changed": (True, False)})


def test_measured_problems_keys_match_the_pack(problems):
    """The letters the deciders return for typical numbers are the pack's keys."""
    assert problems["fe_vs_ft"].answer == "C"
    assert problems["which_blocks"].answer == "D"
    assert problems["bn_small_batch"].answer == "C"
    assert problems["forgetting"].answer == "C"
    assert problems["freeze_two_ways"].answer == "A"
