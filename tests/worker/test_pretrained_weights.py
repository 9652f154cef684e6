"""torchvision's weights are used where a user has them on disk; never downloaded."""

import pytest
import torch
import torchvision

from bot.worker.runner import run_experiment
from tests.bot.conftest import REPO

EXPERIMENTS = REPO / "questions" / "pretrained-models" / "experiments"


@pytest.fixture
def torch_home_with_resnet18(tmp_path, monkeypatch):
    """A checkpoint where torchvision looks for it. Its values are random: what is tested is
    that the file on disk is loaded, which a download attempt here would prove wrong."""
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(),
               checkpoints / weights.url.rsplit("/", 1)[-1])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # the child inherits it
    return tmp_path


async def test_the_problem_code_loads_the_weights_on_disk(torch_home_with_resnet18, tmp_path):
    result = await run_experiment(EXPERIMENTS / "trainable_params.py", {}, size="test",
                                  cache_dir=tmp_path / "cache", device="cpu")
    assert "ImageNet weights (found on disk)" in result.text
    assert result.metrics["imagenet_weights"] == "on disk"
    assert result.answer == "A" and result.metrics["trainable_params"] == 5130


async def test_without_them_it_says_why_it_uses_weights_none(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    result = await run_experiment(EXPERIMENTS / "trainable_params.py", {}, size="test",
                                  cache_dir=tmp_path / "cache", device="cpu")
    assert "Using weights=None" in result.text and "never downloads" in result.text
    assert result.answer == "A"
