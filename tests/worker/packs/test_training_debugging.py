"""The training-debugging pack's deciding functions, fed doctored measurements.

No training here: each experiment's pure deciding function gets the numbers a run could
plausibly measure, and must return the key for typical numbers and other letters (or refuse)
for others. The predict-output scripts must run the very code the pack shows, and their
choice texts must be the pack's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.worker.child import load_script

PACK = Path(__file__).resolve().parents[3] / "questions" / "training-debugging"
EXPERIMENTS = PACK / "experiments"


def script(name: str):
    return load_script(EXPERIMENTS / f"{name}.py")


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    data = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))
    return {p["experiment"]["script"]: p for p in data["problems"] if "experiment" in p}


@pytest.mark.parametrize("name", ["initial_loss", "autocast_dtype", "zero_grad",
                                  "dropout_scaling"])
def test_predict_output_scripts_run_the_shown_code(problems, name):
    module, problem = script(name), problems[f"{name}.py"]
    assert module.SNIPPET.strip() == problem["code"].strip()
    assert {k: str(v) for k, v in problem["choices"].items()} == module.CHOICES


def test_every_experiment_key_matches_the_pack(problems):
    keys = {"initial_loss.py": "B", "overfit_one_batch.py": "A", "zero_grad.py": "B",
            "dropout_scaling.py": "D", "train_eval_modes.py": "C", "no_grad.py": "D",
            "accumulation.py": "C", "autocast_dtype.py": "C", "grad_scaler.py": "D",
            "bf16_cpu.py": "A"}
    assert {name: p["answer"] for name, p in problems.items()} == keys
    assert {p.name for p in EXPERIMENTS.glob("*.py")} == set(keys)


@pytest.mark.parametrize(("name", "printed", "letter"), [
    ("initial_loss", "2.3", "B"), ("initial_loss", "0.1", "A"), ("initial_loss", "0.7", "C"),
    ("initial_loss", "0.9", "D"),
    ("autocast_dtype", "torch.bfloat16 torch.float32 torch.float32", "C"),
    ("autocast_dtype", "torch.bfloat16 torch.bfloat16 torch.bfloat16", "A"),
    ("autocast_dtype", "torch.float32 torch.float32 torch.float32", "B"),
    ("autocast_dtype", "torch.bfloat16  torch.bfloat16 torch.float32", "D"),
    ("zero_grad", "-0.2", "B"), ("zero_grad", "0.4", "A"), ("zero_grad", "1.0", "D"),
    ("zero_grad", "RuntimeError: Trying to backward through the graph a second time (or "
                  "directly access saved tensors after they have already been freed).", "C"),
    ("dropout_scaling", "[0.0, 2.0] [1.0]", "D"), ("dropout_scaling", "[0.0, 1.0] [1.0]", "A"),
    ("dropout_scaling", "[0.0, 2.0] [0.5]", "B"), ("dropout_scaling", "[1.0] [1.0]", "C"),
])
def test_printed_output_maps_to_its_choice(name, printed, letter):
    assert script(name).decide(printed) == letter


@pytest.mark.parametrize(("name", "printed"), [
    ("initial_loss", "2.4"), ("autocast_dtype", "torch.float16 torch.float32 torch.float32"),
    ("zero_grad", "0.8"), ("dropout_scaling", "[0.0] [1.0]")])
def test_printed_output_matching_no_choice_is_refused(name, printed):
    with pytest.raises(ValueError):
        script(name).decide(printed)


def test_overfit_one_batch_reads_the_losses():
    decide = script("overfit_one_batch").decide
    assert decide(correct_final=0.04, bug_start=2.316, bug_final=2.316) == "A"
    assert decide(correct_final=1.9, bug_start=2.316, bug_final=2.316) == "B"
    assert decide(correct_final=0.04, bug_start=2.316, bug_final=2.1) == "C"
    with pytest.raises(ValueError):
        decide(correct_final=0.04, bug_start=2.316, bug_final=3.0)


def test_train_eval_modes_picks_the_model_that_agrees():
    decide = script("train_eval_modes").decide
    typical = {"A": 1.38, "B": 1.2, "C": 0.0, "D": 1.2}
    assert decide(typical) == "C"
    assert decide({**typical, "C": 0.5, "D": 0.0}) == "D"
    assert decide({**typical, "C": 0.5, "A": 0.0}) == "A"
    assert decide({**typical, "C": 0.5, "B": 3e-7}) == "B"
    with pytest.raises(ValueError):
        decide({**typical, "A": 0.0})  # two models agree: no single answer


def test_no_grad_maps_what_changed():
    decide = script("no_grad").decide
    typical = {"saved_grad": 1_855_488, "saved_no_grad": 0, "dropout_zeroed": 0.5,
               "params_trainable": True, "dtype": "float32"}
    assert decide(**typical) == "D"
    assert decide(**{**typical, "dropout_zeroed": 0.0}) == "A"
    assert decide(**{**typical, "params_trainable": False}) == "B"
    assert decide(**{**typical, "dtype": "bfloat16"}) == "C"
    with pytest.raises(ValueError):
        decide(**{**typical, "saved_no_grad": 1_855_488})


def test_accumulation_picks_the_divisor_that_matches():
    decide = script("accumulation").decide
    typical = {"A": 3.0, "B": 0.875, "C": 9.8e-8, "D": 0.5}
    assert decide(typical) == "C"
    assert decide({**typical, "C": 3.0, "A": 1e-7}) == "A"
    assert decide({**typical, "C": 0.75, "B": 1e-7}) == "B"
    assert decide({**typical, "C": 1.0, "D": 2e-7}) == "D"
    with pytest.raises(ValueError):
        decide({**typical, "C": 0.01})  # nothing matches


def test_grad_scaler_reads_what_float16_did():
    decide = script("grad_scaler").decide
    assert decide(zeroed_fp16=0.137, zeroed_scaled=0.0, nonfinite_fp16=0.0,
                  weights_half=False) == "D"
    assert decide(zeroed_fp16=0.0, zeroed_scaled=0.0, nonfinite_fp16=0.02,
                  weights_half=False) == "B"
    assert decide(zeroed_fp16=0.137, zeroed_scaled=0.0, nonfinite_fp16=0.0,
                  weights_half=True) == "C"
    with pytest.raises(ValueError):
        decide(zeroed_fp16=0.001, zeroed_scaled=0.0, nonfinite_fp16=0.0, weights_half=False)


def test_bf16_cpu_reads_the_accuracies():
    decide = script("bf16_cpu").decide
    assert decide(acc_fp32=0.970, acc_bf16=0.968, nonfinite=0) == "A"
    assert decide(acc_fp32=0.970, acc_bf16=0.85, nonfinite=0) == "B"
    assert decide(acc_fp32=0.970, acc_bf16=0.10, nonfinite=3) == "C"
    with pytest.raises(ValueError):
        decide(acc_fp32=0.970, acc_bf16=0.935, nonfinite=0)  # 3.5 points: inconclusive


def test_digits_read_without_sklearn_match_load_digits():
    from sklearn.datasets import load_digits

    pixels, labels = script("accumulation").load_digits_tensors()
    data = load_digits()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert (pixels.numpy() == data.data).all() and (labels.numpy() == data.target).all()
