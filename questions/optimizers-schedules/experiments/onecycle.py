"""Where a OneCycleLR that never leaves its warm-up comes from.

The logged symptom: with max_lr=0.1 and total_steps=1000 (10 epochs of 100 batches), the
learning rate read at the end of each epoch creeps from 0.004 to 0.0043. Each choice names a
cause; each is run as a loop that has exactly that cause, and the one whose log reproduces
the symptom is the answer.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

EPOCHS, BATCHES, MAX_LR = 10, 100, 0.1
# Each choice's cause, as a loop that has it. The key's loop is the problem's own.
CAUSES = {
    "A": "by design: OneCycleLR holds the rate low for its first 30% (pct_start=0.3)",
    "B": "the optimizer's own lr=0.004 overrides max_lr",
    "C": "scheduler.step() called before optimizer.step() in each batch",
    "D": "scheduler.step() once per epoch while total_steps counts batches",
}
SYMPTOM_FRACTION = 0.1  # "never leaves the warm-up": every logged rate below 10% of max_lr


def loop(cause: str) -> list[float]:
    """Ten epochs of 100 batches; returns the rate read at the end of each epoch."""
    model = nn.Linear(2, 1)
    optimizer_lr = 0.004 if cause == "B" else MAX_LR
    optimizer = torch.optim.SGD(model.parameters(), lr=optimizer_lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR,
                                                    total_steps=EPOCHS * BATCHES)
    logged = []
    for _epoch in range(EPOCHS):
        for _batch in range(BATCHES):
            if cause == "C":
                scheduler.step()
            optimizer.step()  # the batch's forward and backward would come before this
            if cause in ("A", "B"):
                scheduler.step()  # per batch, as OneCycleLR expects
        if cause == "D":
            scheduler.step()
        logged.append(optimizer.param_groups[0]["lr"])
    return logged


def reproduces(logged: list[float]) -> bool:
    return max(logged) < SYMPTOM_FRACTION * MAX_LR


def decide(matches: dict[str, int], seeds: int) -> str:
    """The cause whose loop reproduced the symptom with every seed, if exactly one did."""
    hits = [letter for letter, count in matches.items() if count == seeds]
    if len(hits) != 1:
        raise RuntimeError(f"expected exactly one cause to reproduce the log, got {matches}")
    return hits[0]


def run(ctx):
    import warnings

    matches = dict.fromkeys(CAUSES, 0)
    logs: dict[str, list[float]] = {}
    for index, seed in enumerate(ctx.seeds):
        for letter in CAUSES:
            seed_everything(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # cause C's order warning; it is the point
                logged = loop(letter)
            logs.setdefault(letter, logged)
            matches[letter] += int(reproduces(logged))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"OneCycleLR(max_lr={MAX_LR}, total_steps={EPOCHS * BATCHES}), {EPOCHS} epochs of "
            f"{BATCHES} batches; the rate at the end of each epoch, per cause:")
    for letter, cause in CAUSES.items():
        shown = ", ".join(f"{v:.4f}" for v in logs[letter])
        ctx.log(f"{letter}, {cause}:\n  [{shown}]  peak {max(logs[letter]):.4f}; matches "
                f"the log in {matches[letter]}/{len(ctx.seeds)} seeds")
    answer = decide(matches, len(ctx.seeds))
    d, a = logs["D"], logs["A"]
    ctx.log(f"\nWhy: OneCycleLR plans its whole curve in scheduler steps: a warm-up from "
            f"max_lr/25 = {MAX_LR / 25:g} to {MAX_LR:g} over the first 30% of total_steps, then "
            f"an anneal. Stepped once per batch it peaks at {max(a):.4f} by epoch "
            f"{a.index(max(a)) + 1}. Stepped once per epoch, 10 calls cover 10 of its 1000 "
            f"planned steps, so the rate only creeps from {d[0]:.4f} to {d[-1]:.4f}. Call it "
            "after every optimizer.step(), or build it with epochs= and steps_per_epoch=. "
            f"The optimizer's lr does not matter (B peaks at {max(logs['B']):.4f}): OneCycleLR "
            "overwrites it.")
    return {"answer": answer, "metrics": {
        **{f"peak_{letter}": round(max(log), 5) for letter, log in logs.items()},
        **{f"matches_{letter}": count for letter, count in matches.items()},
        "seeds": len(ctx.seeds)}}
