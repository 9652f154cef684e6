"""The evaluation-metrics pack's deciding functions: doctored measurements give other letters.

Pure function calls, no training: `questions verify` runs the experiments themselves.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from bot.worker.child import load_script

PACK_ID = "evaluation-metrics"
PACK = Path(__file__).resolve().parents[3] / "questions" / PACK_ID
EXPERIMENTS = PACK / "experiments"


@cache
def experiment(name: str) -> ModuleType:
    return load_script(EXPERIMENTS / f"{name}.py")


@cache
def problems() -> dict[str, dict]:
    data = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))
    return {p["experiment"]["script"]: p for p in data["problems"] if "experiment" in p}


def test_every_script_in_the_pack_exists_and_every_script_is_used() -> None:
    scripts = {path.name for path in EXPERIMENTS.glob("*.py")}
    assert set(problems()) == scripts


@pytest.mark.parametrize("name", ["precision_recall", "topk", "ece_code"])
def test_predict_output_code_is_the_problems_code(name: str) -> None:
    problem = problems()[f"{name}.py"]
    module = experiment(name)
    assert problem["code"] == module.CODE
    assert problem["choices"] == module.CHOICES


@pytest.mark.parametrize("name", ["precision_recall", "topk", "ece_code"])
def test_predict_output_maps_every_printed_choice_and_rejects_others(name: str) -> None:
    module = experiment(name)
    for letter, text in module.CHOICES.items():
        assert module.decide(text) == letter
        assert module.decide(text + "\n") == letter
    with pytest.raises(ValueError):
        module.decide("1.00 1.00")


def test_predict_output_keys_are_what_the_code_prints() -> None:
    # Running the fixed snippets is cheap (no training) and pins the keys to their output.
    for name in ("precision_recall", "topk", "ece_code"):
        module = experiment(name)
        printed, _ = module.run_code()
        assert module.decide(printed) == problems()[f"{name}.py"]["answer"]


def test_majority_macro_f1() -> None:
    decide = experiment("majority_f1").decide
    assert decide(0.4872) == "B"
    assert decide(0.95) == "A"
    assert decide(0.0) == "C"
    assert decide(0.05) == "D"
    with pytest.raises(ValueError):
        decide(0.7)


def test_micro_f1_candidates() -> None:
    decide = experiment("micro_macro").decide
    typical = {"A": 0.26, "B": 0.04, "C": 1e-16, "D": 0.16}
    assert decide(typical) == "C"
    assert decide({"A": 0.0, "B": 0.04, "C": 0.1, "D": 0.16}) == "A"
    assert decide({"A": 0.2, "B": 0.0, "C": 0.1, "D": 0.16}) == "B"
    assert decide({"A": 0.2, "B": 0.04, "C": 0.1, "D": 0.0}) == "D"
    with pytest.raises(ValueError):
        decide({"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.1})  # ambiguous
    with pytest.raises(ValueError):
        decide({"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.1})  # none


def test_confusion_matrix_claims() -> None:
    module = experiment("confusion_reading")
    precision = {"cat": 0.625, "dog": 0.75, "fox": 0.833}
    recall = {"cat": 0.833, "dog": 0.75, "fox": 0.5}
    assert module.decide(module.claims(precision, recall)) == "B"
    assert module.decide(module.claims({"cat": 0.9, "dog": 0.5, "fox": 0.7},
                                       {"cat": 0.9, "dog": 0.75, "fox": 0.6})) == "A"
    assert module.decide(module.claims({"cat": 0.9, "dog": 0.75, "fox": 0.8},
                                       {"cat": 0.7, "dog": 0.5, "fox": 0.8})) == "C"
    assert module.decide(module.claims({"cat": 0.9, "dog": 0.75, "fox": 0.5},
                                       {"cat": 0.7, "dog": 0.8, "fox": 0.9})) == "D"
    with pytest.raises(ValueError):
        module.decide({"A": False, "B": False, "C": False, "D": False})


def test_loss_vs_accuracy() -> None:
    decide = experiment("loss_vs_accuracy").decide
    assert decide(train_loss=0.0006, rise=0.17, acc_change=-0.006, conf_change=0.08) == "D"
    assert decide(train_loss=0.8, rise=0.17, acc_change=-0.006, conf_change=0.08) == "A"
    assert decide(train_loss=0.0006, rise=0.17, acc_change=-0.08, conf_change=0.08) == "B"
    assert decide(train_loss=0.0006, rise=0.005, acc_change=0.01, conf_change=0.0) == "C"
    with pytest.raises(ValueError):
        decide(train_loss=0.0006, rise=0.17, acc_change=0.0, conf_change=-0.05)


def test_temperature_scaling() -> None:
    decide = experiment("temperature").decide
    assert decide(1.63, 0.9307, 0.9307, 0.040, 0.015) == "A"
    assert decide(0.7, 0.9307, 0.9307, 0.040, 0.030) == "B"
    assert decide(1.63, 0.9307, 0.95, 0.040, 0.015) == "C"
    assert decide(1.63, 0.9307, 0.90, 0.040, 0.015) == "D"
    with pytest.raises(ValueError):
        decide(1.63, 0.9307, 0.9307, 0.015, 0.040)


def test_threshold_for_f1() -> None:
    decide = experiment("threshold").decide
    assert decide(best_threshold=0.32, f1_range=0.6) == "B"
    assert decide(best_threshold=0.50, f1_range=0.6) == "A"
    assert decide(best_threshold=0.70, f1_range=0.6) == "C"
    assert decide(best_threshold=0.32, f1_range=0.005) == "D"


def test_screening_model_choice() -> None:
    decide = experiment("screening").decide
    assert decide(m0_macro_f1=0.488, m1_macro_f1=0.70, m1_recall=0.89) == "D"
    assert decide(m0_macro_f1=0.488, m1_macro_f1=0.30, m1_recall=0.10) == "A"
    assert decide(m0_macro_f1=0.488, m1_macro_f1=0.51, m1_recall=0.60) == "C"
    assert decide(m0_macro_f1=0.488, m1_macro_f1=0.70, m1_recall=0.20) == "C"


def test_every_key_is_reachable_by_its_decider() -> None:
    # The typical measurements above give each problem's key; keep them in step with pack.yaml.
    keys = {script: p["answer"] for script, p in problems().items()}
    assert keys == {
        "majority_f1.py": "B", "precision_recall.py": "D", "topk.py": "C", "ece_code.py": "A",
        "micro_macro.py": "C", "confusion_reading.py": "B", "loss_vs_accuracy.py": "D",
        "temperature.py": "A", "threshold.py": "B", "screening.py": "D",
    }
