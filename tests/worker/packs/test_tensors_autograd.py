"""The tensors-autograd pack: each experiment's deciding function, fed doctored numbers.

No training and no snippet runs here (`questions verify` does that): these are pure calls
that show every deciding function can return other letters, not only the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.worker.child import load_script

PACK_ID = "tensors-autograd"
PACK_DIR = Path(__file__).resolve().parents[3] / "questions" / PACK_ID
EXPERIMENTS = PACK_DIR / "experiments"

PROBLEMS = {p["id"]: p for p in yaml.safe_load((PACK_DIR / "pack.yaml").read_text())["problems"]}
PREDICT_OUTPUT = {  # problem id -> script whose CODE is the problem's code
    "tensors-view-or-clone": "view_copy",
    "tensors-grad-accumulates": "grad_accumulates",
    "tensors-non-leaf-grad": "non_leaf_grad",
    "tensors-broadcast-loss": "broadcast_loss",
    "tensors-backward-twice": "backward_twice",
    "tensors-detach-grad": "detach_grad",
    "tensors-inplace-saved": "inplace_saved",
    "tensors-dtype-promotion": "dtype_promotion",
}


def script(name: str):
    return load_script(EXPERIMENTS / f"{name}.py")


@pytest.mark.parametrize("problem_id", sorted(PREDICT_OUTPUT))
def test_predict_output_runs_the_problems_code_and_choices(problem_id):
    module, problem = script(PREDICT_OUTPUT[problem_id]), PROBLEMS[problem_id]
    assert problem["experiment"]["script"] == f"{PREDICT_OUTPUT[problem_id]}.py"
    assert module.CODE.strip() == problem["code"].strip()
    assert problem["choices"] == module.CHOICES


@pytest.mark.parametrize("problem_id", sorted(PREDICT_OUTPUT))
def test_predict_output_maps_every_printed_choice_to_its_letter(problem_id):
    module = script(PREDICT_OUTPUT[problem_id])
    for letter, text in module.CHOICES.items():
        assert module.decide(text) == letter
        if text.startswith("RuntimeError:"):  # the real message goes on after the choice text
            assert module.decide(text + ": [torch.FloatTensor [3]] and more") == letter


@pytest.mark.parametrize("problem_id", sorted(PREDICT_OUTPUT))
def test_predict_output_refuses_output_matching_no_choice(problem_id):
    module = script(PREDICT_OUTPUT[problem_id])
    with pytest.raises(ValueError):
        module.decide("tensor(42.)")
    with pytest.raises(ValueError):
        module.decide("ValueError: something else entirely")


def test_first_sentence_keeps_the_recognisable_start_of_an_error():
    module = script("backward_twice")
    message = ("RuntimeError: Trying to backward through the graph a second time (or directly "
               "access saved tensors after they have already been freed). Saved ...")
    assert module.first_sentence(message) == (
        "RuntimeError: Trying to backward through the graph a second time")
    assert module.first_sentence("100 1") == "100 1"


def test_accumulation_scale_picks_the_factor_that_matches_the_full_batch():
    decide = script("accumulation_scale").decide
    typical = {"A": 3.0, "B": 1e-7, "C": 0.875, "D": 15.0}
    assert decide(typical) == "B"
    assert decide({"A": 2e-7, "B": 0.75, "C": 0.97, "D": 3.0}) == "A"  # mean of a sum-loss
    assert decide({"A": 31.0, "B": 7.0, "C": 3e-8, "D": 127.0}) == "C"  # sum-reduced loss
    assert decide({"A": 0.75, "B": 0.94, "C": 0.99, "D": 5e-8}) == "D"
    with pytest.raises(ValueError):
        decide({"A": 3.0, "B": 0.01, "C": 0.875, "D": 15.0})  # nothing within tolerance


def test_accumulation_scale_factors_follow_the_choices():
    module = script("accumulation_scale")
    assert module.FACTORS == {"A": 1.0, "B": 0.25, "C": 1 / 32, "D": 4.0}
    assert PROBLEMS["tensors-accumulation-scale"]["experiment"]["script"] == (
        "accumulation_scale.py")


def test_grad_printout_finds_the_one_cause_that_reproduces_the_pattern():
    decide = script("grad_printout").decide
    # (encoder None, encoder params, head None, head params) per cause
    typical = {"A": (0, 22, 0, 2), "B": (4, 4, 0, 2), "C": (0, 4, 0, 2), "D": (4, 4, 2, 2)}
    assert decide(typical) == "B"
    assert decide({"A": (22, 22, 0, 2), "B": (0, 4, 0, 2), "C": (0, 4, 0, 2),
                   "D": (4, 4, 2, 2)}) == "A"
    assert decide({"A": (0, 22, 0, 2), "B": (0, 4, 0, 2), "C": (4, 4, 0, 2),
                   "D": (4, 4, 2, 2)}) == "C"
    assert decide({"A": (0, 22, 0, 2), "B": (4, 4, 2, 2), "C": (0, 4, 0, 2),
                   "D": (4, 4, 0, 2)}) == "D"
    with pytest.raises(ValueError):  # two causes would explain it: no single answer
        decide({"A": (0, 22, 0, 2), "B": (4, 4, 0, 2), "C": (0, 4, 0, 2), "D": (4, 4, 0, 2)})
    with pytest.raises(ValueError):
        decide({"A": (0, 22, 0, 2), "B": (2, 4, 0, 2), "C": (0, 4, 0, 2), "D": (4, 4, 2, 2)})


def test_grad_printout_pattern_counts_none_per_part():
    pattern = script("grad_printout").pattern
    grads = {"encoder.0.weight": None, "encoder.0.bias": None, "encoder.2.weight": 0.1,
             "encoder.2.bias": None, "head.weight": 0.06, "head.bias": None}
    assert pattern(grads) == (3, 4, 1, 2)


def _checks(**failing: tuple[str, ...]) -> dict[str, dict[str, bool]]:
    names = ("saved", "converted", "untouched")
    return {k: {n: n not in failing.get(k, ()) for n in names} | {"in_parameters": k == "B"}
            for k in "ABCD"}


def test_buffer_choice_picks_the_way_that_meets_every_requirement():
    decide = script("buffer_choice").decide
    typical = _checks(A=("saved", "converted"), B=("untouched",), D=("saved",))
    assert decide(typical) == "C"
    assert decide(_checks(B=("untouched",), C=("saved",), D=("saved",))) == "A"
    assert decide(_checks(A=("saved",), C=("untouched",), D=("saved",))) == "B"
    assert decide(_checks(A=("saved",), B=("untouched",), C=("converted",))) == "D"
    with pytest.raises(ValueError):
        decide(_checks(A=("saved",), B=("untouched",)))  # C and D both pass
    with pytest.raises(ValueError):
        decide(_checks(A=("saved",), B=("untouched",), C=("saved",), D=("saved",)))


def test_every_experiment_in_the_pack_is_tested_here():
    scripts = {p["experiment"]["script"] for p in PROBLEMS.values() if "experiment" in p}
    covered = {f"{s}.py" for s in PREDICT_OUTPUT.values()} | {
        "accumulation_scale.py", "grad_printout.py", "buffer_choice.py"}
    assert scripts == covered
    assert scripts == {p.name for p in EXPERIMENTS.glob("*.py")}
