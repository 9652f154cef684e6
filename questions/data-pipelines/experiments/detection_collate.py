"""Batching detection samples whose images hold different numbers of boxes.

A dataset of 12 images, image i holding 1 + i % 3 boxes, as (image, {"boxes", "labels"}).
Each choice is tried on DataLoader(ds, batch_size=4, shuffle=True) for one epoch. A fix
works if the epoch runs, each batch holds 4 images, and every image keeps its own boxes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset

from bot.worker.lab.env import seed_everything

N, BATCH = 12, 4


def n_boxes(i: int) -> int:
    return 1 + i % 3


class Detection(Dataset):
    """(image, target) pairs; the boxes' first coordinate encodes the image index."""

    def __init__(self, as_list: bool = False):
        self.as_list = as_list

    def __len__(self):
        return N

    def __getitem__(self, i):
        boxes = torch.tensor([[float(i), 0.0, 10.0 + k, 10.0] for k in range(n_boxes(i))])
        labels = torch.ones(n_boxes(i), dtype=torch.int64)
        if self.as_list:
            return torch.rand(3, 16, 16), {"boxes": boxes.tolist(), "labels": labels.tolist()}
        return torch.rand(3, 16, 16), {"boxes": boxes, "labels": labels}


def collate_fn(batch):
    return tuple(zip(*batch))  # noqa: B905 - as the problem and torchvision write it


# Each choice: (dataset, extra DataLoader arguments).
CHOICES: dict[str, tuple[str, Callable[[], Detection], dict]] = {
    "A": ("drop_last=True", Detection, {"drop_last": True}),
    "B": ("shuffle=False", Detection, {"shuffle": False}),
    "C": ("collate_fn=collate_fn (tuple(zip(*batch)))", Detection, {"collate_fn": collate_fn}),
    "D": ("boxes and labels as Python lists (.tolist())", lambda: Detection(as_list=True), {}),
}


@dataclass
class Outcome:
    error: str = ""
    batch_sizes: tuple[int, ...] = ()
    boxes_kept: bool = False  # every image came with exactly its own boxes

    @property
    def works(self) -> bool:
        return not self.error and self.boxes_kept and all(b == BATCH for b in self.batch_sizes)


def image_boxes(images, targets) -> list[tuple[int, int]]:
    """(image index, number of boxes) for each image of one collated batch."""
    return [(int(t["boxes"][0][0]), len(t["boxes"])) for t in targets]


def try_choice(make: Callable[[], Detection], extra: dict) -> Outcome:
    kwargs = {"batch_size": BATCH, "shuffle": True, **extra}
    try:
        batches = list(DataLoader(make(), **kwargs))
    except Exception as exc:  # the failure is the measurement
        return Outcome(error=f"{type(exc).__name__}: {str(exc)[:80]}")
    sizes, kept = [], True
    for images, targets in batches:
        sizes.append(len(images))
        pairs = image_boxes(images, targets)
        kept = kept and all(count == n_boxes(i) for i, count in pairs)
    return Outcome(batch_sizes=tuple(sizes), boxes_kept=kept)


def decide(works: dict[str, bool]) -> str:
    """The one choice whose epoch ran with every image's boxes intact; raises otherwise."""
    good = [letter for letter, ok in works.items() if ok]
    if len(good) != 1:
        raise RuntimeError(f"choices that worked: {good}; expected exactly one")
    return good[0]


def run(ctx):
    per_seed: list[dict[str, Outcome]] = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        per_seed.append({k: try_choice(make, extra) for k, (_, make, extra) in CHOICES.items()})
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    first = per_seed[0]
    ctx.log(f"{N} images holding 1, 2 or 3 boxes; DataLoader(ds, batch_size={BATCH}, "
            f"shuffle=True) plus each choice (seed {ctx.seeds[0]}):")
    for letter, (label, _, _) in CHOICES.items():
        o = first[letter]
        result = (f"fails: {o.error}" if o.error else
                  f"runs, batches of {list(o.batch_sizes)} images, each image's boxes "
                  + ("intact" if o.boxes_kept else "NOT intact"))
        ctx.log(f"  {letter} {label}: {result}")
    works = {k: all(s[k].works for s in per_seed) for k in CHOICES}
    agree = sum(all(s[k].works == works[k] for k in CHOICES) for s in per_seed)
    ctx.log(f"The same choices worked in {agree} of {len(ctx.seeds)} seeds.")
    answer = decide(works)
    seed_everything(ctx.seeds[0])
    images, targets = next(iter(DataLoader(Detection(), batch_size=BATCH, shuffle=True,
                                           collate_fn=collate_fn)))
    ctx.log(f"With collate_fn, one batch is a tuple of {len(images)} images and a tuple of "
            f"{len(targets)} target dicts; boxes per image: "
            f"{[tuple(t['boxes'].shape) for t in targets]}")
    ctx.log("\nWhy: default_collate stacks each field across the batch, and tensors of "
            "shapes (1, 4), (2, 4) and (3, 4) cannot be stacked, in the shuffled orders tried "
            "as in the fixed one. drop_last only removes a short last batch, which 12 images "
            "in batches of 4 do not have. Lists fail the same way: default_collate checks "
            "that lists to batch have equal lengths. A collate_fn that returns the samples as "
            "tuples keeps one target per image, which is the form torchvision's detection "
            "models take (general knowledge: their forward takes a list of images and a list "
            "of target dicts).")
    return {"answer": answer, "metrics": {
        **{f"works_{k}": int(v) for k, v in works.items()},
        "seeds_agreeing": agree, "seeds": len(ctx.seeds)}}
