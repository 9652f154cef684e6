"""Finds torchvision's pretrained weights in its cache without ever downloading them."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torchvision.models import WeightsEnum

NOT_ON_DISK = ("torchvision's ImageNet weights are not on disk "
               "(~/.cache/torch/hub/checkpoints) and this worker never downloads")


def checkpoint_path(weights: WeightsEnum) -> Path:
    """Where `model(weights=...)` would look before trying to download."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def on_disk(weights: WeightsEnum) -> bool:
    return checkpoint_path(weights).is_file()
