"""Training and evaluation loops: step-based, so runs compare by optimisation steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from bot.worker.lab.data import Split

Augment = Callable[[Tensor, torch.Generator], Tensor]


@dataclass
class Curve:
    """Validation (and optionally training) accuracy after given numbers of steps."""

    steps: list[int] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)

    def add(self, step: int, val: float, train: float | None = None) -> None:
        self.steps.append(step)
        self.val_acc.append(val)
        if train is not None:
            self.train_acc.append(train)

    def steps_to(self, target: float) -> int | None:
        """The first evaluated step at which validation accuracy reached `target`."""
        return next((s for s, a in zip(self.steps, self.val_acc, strict=True) if a >= target),
                    None)


@torch.no_grad()
def accuracy(model: nn.Module, split: Split, device: str, batch: int = 1024) -> float:
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(split), batch):
        images = split.images[start:start + batch].to(device, non_blocking=True)
        labels = split.labels[start:start + batch].to(device, non_blocking=True)
        correct += int((model(images).argmax(1) == labels).sum())
    model.train(was_training)
    return correct / len(split)


def batches(n: int, batch: int, gen: torch.Generator):
    """Endless shuffled mini-batch index tensors, epoch after epoch."""
    while True:
        order = torch.randperm(n, generator=gen)
        for start in range(0, n - batch + 1, batch):
            yield order[start:start + batch]


def train_steps(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train: Split,
    *,
    steps: int,
    batch: int,
    device: str,
    seed: int,
    val: Split | None = None,
    eval_every: int = 0,
    on_eval: Callable[[int, float], None] | None = None,
    augment: Augment | None = None,
    keep_eval_mode: tuple[nn.Module, ...] = (),
) -> Curve:
    """Runs `steps` SGD steps; evaluates on `val` every `eval_every` steps (and at step 0)."""
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    curve = Curve()
    images_all, labels_all = train.images.to(device), train.labels.to(device)
    feed = batches(len(train), min(batch, len(train)), gen)
    if val is not None and eval_every:
        curve.add(0, accuracy(model, val, device))
    for step in range(1, steps + 1):
        _set_train_mode(model, keep_eval_mode)
        index = next(feed).to(device)
        images = images_all[index]
        if augment is not None:
            images = augment(images, gen)
        loss = loss_fn(model(images), labels_all[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if val is not None and eval_every and (step % eval_every == 0 or step == steps):
            curve.add(step, accuracy(model, val, device))
            if on_eval is not None:
                on_eval(step, curve.val_acc[-1])
    return curve


def _set_train_mode(model: nn.Module, frozen: tuple[nn.Module, ...]) -> None:
    model.train()
    for module in frozen:
        module.eval()


def shift_and_flip(images: Tensor, gen: torch.Generator, max_shift: int = 3) -> Tensor:
    """Augmentation: random translation by rolling plus a random horizontal flip per batch.

    The same transform for the whole batch keeps it cheap; batches differ, which is enough
    to stop a network from memorising exact pixels.
    """
    dx, dy = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=gen))
    images = torch.roll(images, shifts=(dy, dx), dims=(2, 3))
    if bool(torch.rand(1, generator=gen) < 0.5):
        images = images.flip(3)
    return images
