"""Every seed experiment, at test size on CPU, derives its problem's key with margins.

One run per experiment (module-scoped) serves all the assertions about it. The stand-in
models are pretrained once into a session cache, as a fresh CI checkout would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.worker.runner import RunResult, run_experiment

from .conftest import EXPERIMENTS

pytestmark = pytest.mark.slow

KEYS = {"speedup": "D", "trainable_params": "A", "model_choice": "B",
        "learning_rates": "C", "overfitting": "A"}


@pytest.fixture(scope="module")
def results(lab_cache: Path) -> dict[str, RunResult]:
    async def run_all() -> dict[str, RunResult]:
        return {name: await run_experiment(EXPERIMENTS / f"{name}.py", {}, size="test",
                                           device="cpu", cache_dir=lab_cache, timeout_s=120)
                for name in KEYS}
    return asyncio.run(run_all())


@pytest.mark.parametrize("name", list(KEYS))
def test_derives_the_key(results: dict[str, RunResult], name: str):
    result = results[name]
    assert result.answer == KEYS[name], result.text
    assert result.metrics["seeds"] >= 3
    assert result.text.strip()


def test_pretrained_needs_far_fewer_steps(results):
    metrics = results["speedup"].metrics
    assert metrics["speedup_median"] >= 2
    assert metrics["pretrained_final_acc"] > metrics["scratch_final_acc"] + 0.05
    assert "not on disk" in results["speedup"].text or "found on disk" in results["speedup"].text
    assert results["speedup"].figures[0].png.startswith(b"\x89PNG")


def test_problem_code_prints_5130(results):
    result = results["trainable_params"]
    assert result.metrics["trainable_params"] == 5130
    assert "5130" in result.text and "512 x 10" in result.text


def test_small_pretrained_beats_scratch_and_costs_less(results):
    metrics = results["model_choice"].metrics
    assert metrics["small_pretrained_acc"] > metrics["scratch_acc"] + 0.1
    assert metrics["small_pretrained_acc"] > metrics["large_pretrained_acc"] - 0.02
    assert metrics["resnet152_params"] > 10 * metrics["mobilenet_params"]
    assert metrics["resnet152_step_ms"] > 2 * metrics["mobilenet_step_ms"]


def test_discriminative_rates_win_with_a_margin(results):
    metrics = results["learning_rates"].metrics
    assert metrics["C_score"] > metrics["D_score"] + 0.01
    assert metrics["C_score"] > metrics["A_score"] + 0.1
    assert metrics["B_final"] < 0.2  # nothing trained: chance
    assert metrics["best_in_seeds"] >= 2


def test_overfitting_gap_widens_and_regularisers_narrow_it(results):
    metrics = results["overfitting"].metrics
    assert metrics["train_acc"] >= 0.95
    assert metrics["gap_final"] >= 0.1 > metrics["gap_first_epoch"] - 0.05
    assert metrics["more_data_gap"] < metrics["gap_final"]
    assert metrics["augmented_gap"] < metrics["gap_final"]


@pytest.mark.gpu
async def test_runs_on_cuda_when_present(lab_cache: Path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    result = await run_experiment(EXPERIMENTS / "speedup.py", {}, size="full",
                                  cache_dir=lab_cache, timeout_s=120)
    assert result.device == "cuda" and result.answer == "D"
