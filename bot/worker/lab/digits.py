"""sklearn's handwritten digits as tensors, and what the experiments on them share.

1,797 8x8 images ship inside scikit-learn: real data that nothing downloads. Experiments
import these instead of each carrying its own copy."""

from __future__ import annotations

import torch
from torch import nn


def digits(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """sklearn's 1,797 8x8 handwritten digits (shipped with the package), pixels in [0, 1]."""
    from sklearn.datasets import load_digits  # here: the deciding functions need no sklearn

    data = load_digits()
    images = torch.tensor(data.data / 16.0, dtype=torch.float32, device=device)
    return images, torch.tensor(data.target, dtype=torch.long, device=device)


def split(images, labels, seed: int, *sizes: int):
    """Disjoint random subsets of the given sizes, drawn with `seed`."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    order = order.to(labels.device)
    parts, start = [], 0
    for size in sizes:
        index = order[start:start + size]
        parts.append((images[index], labels[index]))
        start += size
    return parts


@torch.no_grad()
def evaluate(model: nn.Module, images, labels) -> tuple[float, float]:
    """(cross-entropy, accuracy) in eval mode."""
    model.eval()
    logits = model(images)
    loss = nn.functional.cross_entropy(logits, labels).item()
    return loss, (logits.argmax(1) == labels).float().mean().item()
