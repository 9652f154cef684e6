"""The data-pipelines pack: deciding functions map doctored measurements to other letters.

No training here: each experiment's deciding function is fed numbers, and the snippets of the
predict-output problems are checked to be the code the experiments run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from bot.worker.child import load_script

PACK_ID = "data-pipelines"
PACK_DIR = Path(__file__).resolve().parents[3] / "questions" / PACK_ID
EXPERIMENTS = PACK_DIR / "experiments"


def script(name: str):
    return load_script(EXPERIMENTS / f"{name}.py")


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    pack = yaml.safe_load((PACK_DIR / "pack.yaml").read_text(encoding="utf-8"))
    return {p["id"]: p for p in pack["problems"]}


def test_every_problem_is_prefixed_and_every_script_exists(problems):
    for problem_id, problem in problems.items():
        assert problem_id.startswith("data-")
        if "experiment" in problem:
            assert (EXPERIMENTS / problem["experiment"]["script"]).is_file()
    assert sum("experiment" in p for p in problems.values()) >= 8


@pytest.mark.parametrize(("problem_id", "name"), [
    ("data-drop-last-batches", "drop_last"),
    ("data-collate-dict", "collate_dict"),
    ("data-todtype-scale", "todtype_scale"),
    ("data-worker-rng-copies", "worker_rng"),
])
def test_predict_output_experiments_run_the_problems_code(problems, problem_id, name):
    module, problem = script(name), problems[problem_id]
    assert problem["code"] == module.CODE
    for letter, text in module.CHOICES.items():
        if getattr(module, "VARIES", None) != letter:  # a claim, not a printed text
            assert str(problem["choices"][letter]) == text


@pytest.mark.parametrize(("name", "key"), [
    ("drop_last", "B"), ("collate_dict", "D"), ("todtype_scale", "C")])
def test_printed_text_picks_its_choice(name, key):
    module = script(name)
    for letter, text in module.CHOICES.items():
        assert module.decide([text, text, text]) == letter
    assert module.decide([module.CHOICES[key]] * 3) == key
    with pytest.raises(RuntimeError):
        module.decide(["something else"] * 3)
    with pytest.raises(RuntimeError):
        module.decide([module.CHOICES["A"], module.CHOICES["B"]])


def test_worker_rng_decides_by_pattern_and_by_variation():
    module = script("worker_rng")
    assert module.decide(["[85, 85, 63, 63]"] * 3) == "B"
    assert module.decide(["[85, 63, 51, 26]"] * 3) == "A"
    assert module.decide(["[85, 63, 85, 63]"] * 3) == "C"
    assert module.decide(["[1, 2, 3, 4]", "[5, 6, 7, 8]", "[1, 2, 3, 4]"]) == "D"
    with pytest.raises(RuntimeError):
        module.decide(["[1, 2, 3, 4]"] * 3)


def test_dataset_protocol_picks_the_one_design_that_worked():
    decide = script("dataset_protocol").decide
    assert decide({"A": True, "B": False, "C": False, "D": False}) == "A"
    assert decide({"A": False, "B": True, "C": False, "D": False}) == "B"
    assert decide({"A": False, "B": False, "C": True, "D": False}) == "C"
    assert decide({"A": False, "B": False, "C": False, "D": True}) == "D"
    with pytest.raises(RuntimeError):
        decide({"A": True, "B": True, "C": False, "D": False})
    with pytest.raises(RuntimeError):
        decide(dict.fromkeys("ABCD", False))


def test_detection_collate_picks_the_one_fix_that_worked():
    decide = script("detection_collate").decide
    assert decide({"A": False, "B": False, "C": True, "D": False}) == "C"
    assert decide({"A": True, "B": False, "C": False, "D": False}) == "A"
    assert decide({"A": False, "B": True, "C": False, "D": False}) == "B"
    assert decide({"A": False, "B": False, "C": False, "D": True}) == "D"
    with pytest.raises(RuntimeError):
        decide(dict.fromkeys("ABCD", False))


def test_weighted_sampler_picks_the_balanced_sampler_that_reaches_the_minority(problems):
    module = script("weighted_sampler")
    full = dict.fromkeys("ABCD", 1.0)
    typical_share = {"A": 0.0, "B": 0.01, "C": 0.51, "D": 0.10}
    typical_coverage = {"A": 0.0, "B": 0.1, "C": 0.99, "D": 1.0}
    assert module.decide(typical_share, typical_coverage) == "C"
    for letter in "ABD":
        share = {k: (0.5 if k == letter else 0.1) for k in "ABCD"}
        assert module.decide(share, full) == letter
    # a 50% share from a sampler that never reaches the minority images does not count
    assert module.decide({"A": 0.5, "B": 0.0, "C": 0.45, "D": 0.1},
                         {"A": 0.0, "B": 1.0, "C": 1.0, "D": 1.0}) == "C"
    with pytest.raises(RuntimeError):
        module.decide({"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.1}, full)
    choices = problems["data-weighted-sampler"]["choices"]
    for letter, code in module.SAMPLERS.items():
        assert choices[letter] == f"`{code}`"


def test_weighted_sampler_expressions_build():
    module = script("weighted_sampler")
    labels = module.make_labels()
    assert len(list(module.sampler_for("A", labels))) == 1000
    assert len(module.sampler_for("C", labels).weights) == 1000


def test_boxes_follow_picks_the_best_overlap_if_it_is_good():
    decide = script("boxes_follow").decide
    assert decide({"A": 0.0, "B": 0.32, "C": 0.39, "D": 0.96}) == "D"
    assert decide({"A": 0.0, "B": 0.95, "C": 0.39, "D": 0.5}) == "B"
    assert decide({"A": 0.0, "B": 0.3, "C": 0.9, "D": 0.5}) == "C"
    assert decide({"A": 0.85, "B": 0.3, "C": 0.4, "D": 0.5}) == "A"
    with pytest.raises(RuntimeError):
        decide({"A": 0.0, "B": 0.3, "C": 0.4, "D": 0.5})


def test_boxes_follow_iou():
    iou = script("boxes_follow").iou
    assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert iou([0, 0, 10, 10], [10, 10, 20, 20]) == 0.0
    assert iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)


def test_val_pipeline_picks_the_most_accurate_pipeline_that_does_not_depend_on_chance():
    module = script("val_pipeline")
    stable = {"A": True, "B": False, "C": False, "D": True}
    accuracy = {"A": 0.68, "B": 0.64, "C": 0.63, "D": 0.14}
    assert module.decide(stable, accuracy) == "A"
    assert module.decide(stable, {**accuracy, "D": 0.70}) == "D"
    assert module.decide({**stable, "C": True}, {**accuracy, "C": 0.75}) == "C"
    assert module.decide({"A": False, "B": True, "C": False, "D": False}, accuracy) == "B"
    with pytest.raises(RuntimeError):
        module.decide(dict.fromkeys("ABCD", False), accuracy)


def test_val_pipeline_stability_compares_predictions_not_accuracies():
    module = script("val_pipeline")
    same = torch.tensor([0, 1, 2])
    assert module.stable([(0.5, same), (0.5, same.clone())])
    # same accuracy, different predictions: not stable
    assert not module.stable([(1 / 3, torch.tensor([0, 0, 0])), (1 / 3, torch.tensor([1, 1, 1]))])


def test_augment_gap_reads_the_diagnosis_off_the_accuracies():
    derive = script("augment_gap").derive
    assert derive(1.0, 0.35, 0.76, 0.55) == "B"  # the problem's numbers
    assert derive(0.97, 0.49, 0.57, 0.39) == "A"  # both fell: the model could not fit
    assert derive(0.5, 0.6, 0.5, 0.6) == "D"  # validation above training, no narrowing
    with pytest.raises(RuntimeError):
        derive(1.0, 0.5, 1.0, 0.5)  # no effect at all
