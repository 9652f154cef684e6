"""The packs shipped under questions/ load, and the seed pack is as authored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.bank import load_bank, load_pack

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "questions"
PACK_FOLDERS = sorted(p.parent for p in QUESTIONS.glob("*/pack.yaml"))

SEED = [  # (answer, kind, difficulty), in the pack's order
    ("D", "conceptual", "intermediate"),
    ("A", "predict-output", "intermediate"),
    ("B", "model-choice", "advanced"),
    ("C", "hyperparameter", "advanced"),
    ("A", "metrics", "expert"),
]


@pytest.fixture(scope="module")
def pretrained():
    return load_pack(QUESTIONS / "pretrained-models")


def test_questions_folder_has_packs():
    assert PACK_FOLDERS, f"no */pack.yaml under {QUESTIONS}"


@pytest.mark.parametrize("folder", PACK_FOLDERS, ids=[p.name for p in PACK_FOLDERS])
def test_pack_loads(folder):
    pack = load_pack(folder)
    assert pack.problems


def test_whole_bank_loads():
    bank = load_bank(QUESTIONS)
    assert set(bank.packs) == {load_pack(f).id for f in PACK_FOLDERS}


def test_problem_ids_are_unique_across_packs():
    ids = Counter(p.id for folder in PACK_FOLDERS for p in load_pack(folder).problems)
    assert [pid for pid, n in ids.items() if n > 1] == []


def test_pack_ids_are_unique():
    ids = Counter(load_pack(folder).id for folder in PACK_FOLDERS)
    assert [pid for pid, n in ids.items() if n > 1] == []


def test_pretrained_pack_has_five_problems(pretrained):
    assert pretrained.id == "pretrained-models"
    assert len(pretrained.problems) == 5


def test_pretrained_keys_kinds_and_difficulties(pretrained):
    assert [(p.answer, p.kind, p.difficulty) for p in pretrained.problems] == SEED


def test_pretrained_time_limits_and_attempts(pretrained):
    assert [(p.time_limit, p.attempts) for p in pretrained.problems] == [(120, 2)] * 5


def test_pretrained_explains_every_wrong_choice(pretrained):
    for problem in pretrained.problems:
        wrong = set(problem.letters) - {problem.answer}
        assert set(problem.why_not) == wrong, problem.id
        assert all(text.strip() for text in problem.why_not.values()), problem.id


def test_pretrained_choices_are_a_to_d(pretrained):
    assert [p.letters for p in pretrained.problems] == [("A", "B", "C", "D")] * 5


def test_pretrained_badge(pretrained):
    assert pretrained.badge.name == "Pre-trained Model Master"


def test_pretrained_experiment_scripts_exist(pretrained):
    for problem in pretrained.problems:
        assert problem.experiment is not None, problem.id
        assert problem.experiment.path(pretrained.directory).is_file(), problem.id
