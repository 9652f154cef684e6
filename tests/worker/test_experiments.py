"""The shipped experiments on CUDA, where a machine has it.

On the CPU, `tutorbot questions verify` (part of `make test`) runs every experiment and checks
the answer it derives; tests/worker/packs/ feeds each deciding step doctored measurements.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.worker.runner import run_experiment

from .conftest import EXPERIMENTS


@pytest.mark.gpu
async def test_runs_on_cuda_when_present(lab_cache: Path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    result = await run_experiment(EXPERIMENTS / "speedup.py", {}, size="full",
                                  cache_dir=lab_cache, timeout_s=120)
    assert result.device == "cuda" and result.answer == "D"
