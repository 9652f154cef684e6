"""Generated image-classification tasks: no downloads, reproducible from a seed.

Two tasks share the same visual vocabulary (strokes, edges, corners, curves) but have
different classes, like ImageNet and a learner's own photos: the *source* task is what the
stand-in model is pretrained on, the *target* task is the small task it is fine-tuned on.
Images are grey-scale squares with a shape at a random position, size and stroke width,
a random background level and pixel noise, so a network must learn features, not pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

# A shape is a function of coordinates relative to its centre, scaled so the shape spans
# about [-1, 1], and a stroke half-width `w`; it returns a {0, 1} mask.
Shape = Callable[[Tensor, Tensor, Tensor], Tensor]


def _disc(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x**2 + y**2) <= 0.8


def _ring(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return ((x**2 + y**2).sqrt() - 0.8).abs() <= w


def _square(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x.abs() <= 0.75) & (y.abs() <= 0.75)


def _frame(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    edge = torch.maximum(x.abs(), y.abs())
    return (edge - 0.75).abs() <= w


def _triangle(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (y <= 0.8) & (y >= 2 * x.abs() - 0.9)


def _plus(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return ((x.abs() <= w) & (y.abs() <= 0.9)) | ((y.abs() <= w) & (x.abs() <= 0.9))


def _cross(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    inside = (x.abs() <= 0.9) & (y.abs() <= 0.9)
    return inside & (((x - y).abs() <= 1.4 * w) | ((x + y).abs() <= 1.4 * w))


def _hbar(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (y.abs() <= w) & (x.abs() <= 0.9)


def _vbar(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x.abs() <= w) & (y.abs() <= 0.9)


def _diamond(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x.abs() + y.abs()) <= 0.9


def _hollow_diamond(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return ((x.abs() + y.abs()) - 0.8).abs() <= 1.4 * w


def _ell(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    upright = ((x + 0.6).abs() <= w) & (y.abs() <= 0.9)
    foot = ((y - 0.9 + w).abs() <= w) & (x >= -0.6 - w) & (x <= 0.8)
    return upright | foot


def _tee(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    top = ((y + 0.9 - w).abs() <= w) & (x.abs() <= 0.9)
    stem = (x.abs() <= w) & (y >= -0.9) & (y <= 0.9)
    return top | stem


def _two_dots_h(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return ((x.abs() - 0.55) ** 2 + y**2) <= 0.12


def _two_dots_v(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return ((y.abs() - 0.55) ** 2 + x**2) <= 0.12


def _ellipse_h(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x**2 / 0.8 + y**2 / 0.2) <= 1


def _ellipse_v(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x**2 / 0.2 + y**2 / 0.8) <= 1


def _half_disc(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return ((x**2 + (y - 0.4) ** 2) <= 0.8) & (y <= 0.4)


def _bullseye(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return _ring(x, y, w) | ((x**2 + y**2) <= 0.06)


def _corner(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return (x >= -0.8) & (y >= -0.8) & (x + y <= 0.2)


def _hollow_triangle(x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return _triangle(x, y, w) & ~_triangle(x * 1.6, (y + 0.25) * 1.6, w)


SOURCE_SHAPES: tuple[Shape, ...] = (
    _disc, _ring, _square, _frame, _triangle, _plus, _cross, _hbar, _vbar, _diamond,
)
TARGET_SHAPES: tuple[Shape, ...] = (
    _hollow_diamond, _ell, _tee, _two_dots_h, _two_dots_v,
    _ellipse_h, _ellipse_v, _half_disc, _bullseye, _hollow_triangle,
)
TASKS: dict[str, tuple[Shape, ...]] = {"source": SOURCE_SHAPES, "target": TARGET_SHAPES}


@dataclass(frozen=True)
class Split:
    images: Tensor  # (n, 1, size, size), float32, roughly zero-mean
    labels: Tensor  # (n,), int64

    def __len__(self) -> int:
        return len(self.labels)


def make_split(task: str, n: int, *, seed: int, size: int = 24, noise: float = 0.35) -> Split:
    """`n` images of `task` ("source" or "target"), balanced over its classes."""
    shapes = TASKS[task]
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % len(shapes)
    labels = labels[torch.randperm(n, generator=gen)]
    x, y, w = _coordinates(n, size, gen)
    mask = torch.zeros(n, size, size, dtype=torch.bool)
    for index, shape in enumerate(shapes):
        rows = labels == index
        if rows.any():
            mask[rows] = shape(x[rows], y[rows], w[rows])
    contrast = 0.6 + 0.8 * torch.rand(n, 1, 1, generator=gen)
    background = 0.4 * torch.rand(n, 1, 1, generator=gen) - 0.2
    images = background + contrast * mask.float() - 0.3
    images = images + noise * torch.randn(n, size, size, generator=gen)
    return Split(images.unsqueeze(1).contiguous(), labels)


def _coordinates(n: int, size: int, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """Per-image coordinates relative to a random centre and scale, plus stroke widths."""
    scale = (0.22 + 0.14 * torch.rand(n, 1, 1, generator=gen)) * size
    centre = size / 2 + (torch.rand(n, 2, 1, 1, generator=gen) - 0.5) * 0.35 * size
    grid = torch.arange(size, dtype=torch.float32) + 0.5
    x = (grid.view(1, 1, size) - centre[:, 0]) / scale
    y = (grid.view(1, size, 1) - centre[:, 1]) / scale
    width = (0.9 + 0.8 * torch.rand(n, 1, 1, generator=gen)) / scale
    return x.expand(n, size, size), y.expand(n, size, size), width


def target_splits(n_train: int, n_val: int, *, seed: int, size: int = 24) -> tuple[Split, Split]:
    """A small target-task training set and a larger validation set from disjoint seeds."""
    train = make_split("target", n_train, seed=10_000 + seed, size=size)
    val = make_split("target", n_val, seed=20_000 + seed, size=size)
    return train, val
