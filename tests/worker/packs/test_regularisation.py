"""The regularisation pack: each experiment's deciding step, fed doctored measurements.

No training here: `tutorbot questions verify` runs the experiments themselves. These tests
check that every deciding function returns the key for typical numbers and other letters for
other plausible numbers, and that the predict-output scripts carry the pack's exact choices
and run the pack's exact code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from bot.bank import load_pack
from bot.worker.child import load_script

PACK_ID = "regularisation"
PACK_DIR = Path(__file__).resolve().parents[3] / "questions" / PACK_ID
EXPERIMENTS = PACK_DIR / "experiments"


@cache
def script(name: str) -> ModuleType:
    return load_script(EXPERIMENTS / f"{name}.py")


@pytest.fixture(scope="module")
def problems():
    pack = load_pack(PACK_DIR / "pack.yaml")
    return {p.experiment.script.removesuffix(".py"): p for p in pack.problems if p.experiment}


def test_every_problem_id_has_the_prefix():
    pack = load_pack(PACK_DIR / "pack.yaml")
    assert all(p.id.startswith("reg-") for p in pack.problems)
    assert sum(p.experiment is not None for p in pack.problems) >= 8


# --- predict-output: the printed text picks the letter ------------------------------------

PRINTED = ["dropout_scaling", "smoothing_loss", "patience"]


@pytest.mark.parametrize("name", PRINTED)
def test_scripts_carry_the_packs_choices(name, problems):
    assert dict(script(name).CHOICES) == dict(problems[name].choices)


@pytest.mark.parametrize("name", PRINTED)
def test_scripts_run_the_packs_code(name, problems):
    """Every line of the problem's code appears in the script, in the same order."""
    source = (EXPERIMENTS / f"{name}.py").read_text().splitlines()
    position = 0
    for line in filter(None, (raw.strip() for raw in problems[name].code.splitlines())):
        found = next((i for i in range(position, len(source)) if source[i].strip() == line),
                     None)
        assert found is not None, f"{line!r} is not in {name}.py (in order)"
        position = found + 1


@pytest.mark.parametrize("name", PRINTED)
def test_every_printed_choice_gives_its_letter(name):
    module = script(name)
    for letter, text in module.CHOICES.items():
        assert module.decide(text, module.CHOICES) == letter


@pytest.mark.parametrize("name", PRINTED)
def test_unmatched_output_raises(name):
    with pytest.raises(RuntimeError):
        script(name).decide("something else", script(name).CHOICES)


def test_dropout_output_tolerates_spacing():
    decide = script("dropout_scaling").decide
    assert decide("1.25  1.0 /  1.0") == "A"


# --- dropout: training loss above validation loss -----------------------------------------

def test_dropout_gap_key_for_typical_numbers():
    # logged (train mode) 0.38, eval-mode train loss 0.19, val 0.26, train acc 96%
    assert script("dropout_loss_gap").decide(0.38, 0.19, 0.26, 0.96) == "A"


def test_dropout_gap_other_letters():
    decide = script("dropout_loss_gap").decide
    assert decide(0.38, 0.33, 0.26, 0.96) == "B"  # above val even with dropout off
    assert decide(0.9, 0.7, 0.6, 0.80) == "C"  # does not fit its own training data
    with pytest.raises(RuntimeError):
        decide(0.20, 0.10, 0.26, 0.97)  # logged loss not above val: nothing to explain


# --- weight decay ------------------------------------------------------------------------

def test_weight_decay_key_for_typical_numbers():
    # norm 15 -> 10, train loss 0.002 -> 0.04, loss gap 0.47 -> 0.28
    assert script("weight_decay").decide(15.0, 10.0, 0.002, 0.04, 0.47, 0.28) == "A"


def test_weight_decay_other_letters():
    decide = script("weight_decay").decide
    assert decide(15.0, 10.0, 0.002, 0.001, 0.47, 0.40) == "B"  # train loss lower still
    assert decide(15.0, 16.0, 0.002, 0.04, 0.47, 0.28) == "C"  # norm grew
    assert decide(15.0, 10.0, 0.002, 0.30, 0.47, 0.46) == "D"  # both rose, same gap
    with pytest.raises(RuntimeError):
        decide(15.0, 14.9, 0.002, 0.002, 0.47, 0.47)  # decay had no effect


# --- label smoothing and confidence ------------------------------------------------------

def test_smoothing_confidence_key_for_typical_numbers():
    # confidence 0.95 -> 0.81, accuracy 94.0% -> 94.7%
    assert script("smoothing_confidence").decide(0.95, 0.81, 0.940, 0.947) == "A"


def test_smoothing_confidence_other_letters():
    decide = script("smoothing_confidence").decide
    assert decide(0.90, 0.97, 0.94, 0.94) == "B"  # more confident
    assert decide(0.95, 0.81, 0.94, 0.88) == "C"  # accuracy fell
    assert decide(0.95, 0.15, 0.94, 0.93) == "D"  # nearly uniform
    with pytest.raises(RuntimeError):
        decide(0.95, 0.945, 0.94, 0.94)  # no effect


# --- early stopping: which checkpoint ----------------------------------------------------

def test_early_stopping_key_for_typical_numbers():
    assert script("early_stopping").decide({"A": 0.64, "B": 0.83, "C": 0.17}) == "B"


def test_early_stopping_other_letters():
    decide = script("early_stopping").decide
    assert decide({"A": 0.90, "B": 0.85, "C": 0.40}) == "A"  # no memorising: last is best
    assert decide({"A": 0.60, "B": 0.70, "C": 0.80}) == "C"
    assert decide({"A": 0.90, "B": 0.905, "C": 0.895}) == "D"  # all about the same
    with pytest.raises(RuntimeError):
        decide({"A": 0.60, "B": 0.83, "C": 0.825})  # no clear winner


# --- augmentation ------------------------------------------------------------------------

def test_augmentation_key_for_typical_numbers():
    val = {"none": 0.27, "A": 0.22, "B": 0.41, "C": 0.30, "D": 0.31}
    assert script("augmentation").decide(val) == "B"


@pytest.mark.parametrize("winner", ["A", "C", "D"])
def test_augmentation_other_letters(winner):
    val = {"none": 0.27, "A": 0.22, "B": 0.30, "C": 0.28, "D": 0.29, winner: 0.45}
    assert script("augmentation").decide(val) == winner


def test_augmentation_without_a_clear_winner_raises():
    with pytest.raises(RuntimeError):
        script("augmentation").decide({"none": 0.27, "A": 0.22, "B": 0.31, "C": 0.30,
                                       "D": 0.305})


# --- more data vs regularisation ---------------------------------------------------------

def test_more_data_key_for_typical_numbers():
    assert script("more_data").decide(gain_data=0.067, gain_reg=0.019) == "A"


def test_more_data_other_letters():
    decide = script("more_data").decide
    assert decide(gain_data=0.02, gain_reg=0.07) == "B"
    assert decide(gain_data=0.004, gain_reg=-0.01) == "C"
    assert decide(gain_data=0.05, gain_reg=0.045) == "D"


# --- underfitting ------------------------------------------------------------------------

def test_underfitting_key_for_typical_numbers():
    val = {"start": 0.87, "A": 0.73, "B": 0.80, "C": 0.93, "D": 0.86}
    assert script("underfitting").decide(val) == "C"


@pytest.mark.parametrize("winner", ["A", "B", "D"])
def test_underfitting_other_letters(winner):
    val = {"start": 0.87, "A": 0.80, "B": 0.82, "C": 0.85, "D": 0.84, winner: 0.92}
    assert script("underfitting").decide(val) == winner


def test_underfitting_without_a_clear_winner_raises():
    with pytest.raises(RuntimeError):
        script("underfitting").decide({"start": 0.87, "A": 0.80, "B": 0.82, "C": 0.93,
                                       "D": 0.925})
