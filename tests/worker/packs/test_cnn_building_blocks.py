"""The cnn-building-blocks pack: each experiment's deciding step, fed doctored measurements.

No training here: `tutorbot questions verify` runs the experiments themselves. These tests
check that every deciding function can return other letters than the key, from numbers a run
could plausibly measure, and that the predict-output scripts know the pack's exact choices.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from bot.bank import load_pack
from bot.worker.child import load_script

PACK_ID = "cnn-building-blocks"
PACK_DIR = Path(__file__).resolve().parents[3] / "questions" / PACK_ID
EXPERIMENTS = PACK_DIR / "experiments"


def script(name: str) -> ModuleType:
    return load_script(EXPERIMENTS / f"{name}.py")


@pytest.fixture(scope="module")
def problems():
    pack = load_pack(PACK_DIR / "pack.yaml")
    return {p.experiment.script.removesuffix(".py"): p for p in pack.problems if p.experiment}


# Predict-output (and the receptive-field width): the printed text picks the letter.
MATCHED = ["conv_output_shape", "dilation_pool_shape", "separable_params", "bn_running_stats",
           "receptive_field_stride"]


@pytest.mark.parametrize("name", MATCHED)
def test_scripts_carry_the_packs_choices(name, problems):
    problem = problems[name]
    assert dict(script(name).CHOICES) == dict(problem.choices)


@pytest.mark.parametrize("name", MATCHED)
def test_every_printed_choice_gives_its_letter(name):
    module = script(name)
    for letter, text in module.CHOICES.items():
        assert module.decide([text, text, text], module.CHOICES) == letter


@pytest.mark.parametrize("name", MATCHED)
def test_unmatched_or_inconsistent_output_raises(name):
    module = script(name)
    first, second = list(module.CHOICES.values())[:2]
    with pytest.raises(RuntimeError):
        module.decide(["something else"] * 3, module.CHOICES)
    with pytest.raises(RuntimeError):
        module.decide([first, second, first], module.CHOICES)


def test_real_outputs_give_the_keys(problems):
    printed = {
        "conv_output_shape": "torch.Size([8, 16, 15, 15])",
        "dilation_pool_shape": "torch.Size([1, 4, 13, 13])",
        "separable_params": "73856 8768",
        "bn_running_stats": "0.95 4.5",
        "receptive_field_stride": "13",
    }
    for name, text in printed.items():
        module = script(name)
        assert module.decide([text] * 3, module.CHOICES) == problems[name].answer


def test_dilated_grid_reads_the_pattern():
    decide = script("dilated_grid").decide
    assert decide(13, 49) == "B"  # measured: a 13-wide grid of 49 pixels
    assert decide(7, 49) == "A"
    assert decide(13, 169) == "C"
    assert decide(13, 9) == "D"
    with pytest.raises(RuntimeError):
        decide(11, 121)


def test_stack_vs_large_kernel_picks_the_cheapest_fitting_design():
    decide = script("stack_vs_large_kernel").decide
    c2 = 64 * 64
    params = {"A": 27 * c2, "B": 49 * c2, "C": 34 * c2, "D": 50 * c2}
    fields = {"A": 7, "B": 7, "C": 7, "D": 7}
    assert decide(params, fields) == "A"
    # If the 3x3 stack had measured a smaller field, the cheapest design reaching 7x7 wins.
    assert decide(params, {**fields, "A": 5}) == "C"
    assert decide({**params, "B": 20 * c2}, fields) == "B"
    assert decide({**params, "D": 10 * c2}, fields) == "D"
    with pytest.raises(RuntimeError):
        decide(params, dict.fromkeys(fields, 5))


def test_bn_learning_rates_reads_the_largest_rate():
    decide = script("bn_learning_rates").decide
    plain = {0.2: 0.25, 1.0: 0.11}  # test size, seeds 0-2
    bn = {0.2: 0.66, 1.0: 0.49}
    assert decide(plain, bn) == "B"
    assert decide({**plain, 1.0: 0.85}, bn) == "A"
    assert decide({**plain, 1.0: 0.85}, {**bn, 1.0: 0.10}) == "C"
    assert decide(plain, {**bn, 1.0: 0.12}) == "D"


def test_forgot_eval_reads_the_accuracy_change():
    decide = script("forgot_eval").decide
    assert decide(0.97, 0.09, False) == "D"  # test size, seeds 0-2
    assert decide(0.97, 0.95, False) == "A"
    assert decide(0.70, 0.90, False) == "C"
    assert decide(0.97, 0.0, True) == "B"


def test_global_avg_pool_reads_weights_sizes_and_shift():
    decide = script("global_avg_pool").decide
    assert decide(5760, 640, False, True, 0.20, 0.05) == "C"  # test size, seeds 0-2
    assert decide(5760, 640, False, False, 0.20, 0.05) == "B"
    assert decide(640, 640, False, True, 0.20, 0.05) == "A"
    assert decide(5760, 640, False, True, 0.05, 0.20) == "D"
    with pytest.raises(RuntimeError):
        decide(5760, 640, True, True, 0.20, 0.05)


def test_keys_match_the_typical_measurements(problems):
    assert problems["dilated_grid"].answer == "B"
    assert problems["stack_vs_large_kernel"].answer == "A"
    assert problems["bn_learning_rates"].answer == "B"
    assert problems["forgot_eval"].answer == "D"
    assert problems["global_avg_pool"].answer == "C"
