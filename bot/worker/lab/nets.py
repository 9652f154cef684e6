"""The small CNN that stands in for an ImageNet model, and helpers to split it.

Batch norm after each convolution, as in ResNet and MobileNet, so freezing behaves like it
does on the real models: a frozen backbone must also be put in eval mode, because
`requires_grad=False` alone still lets training-mode batch norm update its running stats.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn


class SmallCNN(nn.Module):
    """Four conv blocks (`width`, 2x, 4x, 8x channels), global average pooling, a linear head."""

    def __init__(self, num_classes: int = 10, width: int = 8, in_channels: int = 1) -> None:
        super().__init__()
        channels = [in_channels, width, 2 * width, 4 * width, 8 * width]
        blocks: list[nn.Module] = []
        for index, (cin, cout) in enumerate(zip(channels, channels[1:], strict=False)):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True)]
            if index < 3:
                blocks.append(nn.MaxPool2d(2))
        self.backbone = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(channels[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.backbone(x))


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def head_params(model: nn.Module) -> Iterator[nn.Parameter]:
    head = model.fc
    assert isinstance(head, nn.Module)
    return iter(head.parameters())


def backbone_params(model: nn.Module) -> Iterator[nn.Parameter]:
    return (p for name, p in model.named_parameters() if not name.startswith("fc."))


def freeze_backbone(model: SmallCNN) -> None:
    """Stops gradients *and* batch-norm statistics updates in the backbone."""
    for param in model.backbone.parameters():
        param.requires_grad = False
    model.backbone.eval()


def new_head(model: SmallCNN, num_classes: int) -> None:
    """Replaces the classifier, as `model.fc = nn.Linear(...)` does on a torchvision model."""
    model.fc = nn.Linear(model.fc.in_features, num_classes)
