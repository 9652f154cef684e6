"""The overfit-one-batch sanity check: a correct loop drives the loss near 0, a broken one can't.

Per seed: one fixed batch of 32 digits (sklearn), an MLP, Adam at lr 1e-3, as in the problem.
Three loops train on that batch alone: the correct one; the same at lr 1e-5 (what a learning
rate too low looks like); and a broken one with a classic bug: the logits are detached, and
the error "element 0 of tensors does not require grad" that this causes is silenced with
loss.requires_grad_(True), so backward() runs but no gradient reaches the weights.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import statistics
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bot.worker.lab.env import seed_everything

SIZES = {"test": {"steps": 200}, "cpu": {"steps": 200}, "full": {"steps": 200}}  # as in the problem
LOOPS = ("correct", "lr 1e-5", "detached (bug)")


@functools.cache
def load_digits_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits: 1797 images of 64 pixels valued 0-16, and labels 0-9.

    Read from the CSV file scikit-learn ships, as its load_digits does, but without importing
    scikit-learn, whose import alone takes seconds; load_digits if the file is not there.
    """
    spec = importlib.util.find_spec("sklearn")
    folder = spec.submodule_search_locations if spec is not None else None
    path = Path(next(iter(folder))) / "datasets" / "data" / "digits.csv.gz" if folder else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        pixels, labels = table[:, :-1], table[:, -1]
    else:
        from sklearn.datasets import load_digits

        data = load_digits()
        pixels, labels = data.data, data.target
    return (torch.tensor(pixels, dtype=torch.float32), torch.tensor(labels, dtype=torch.long))


def one_batch(seed: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    pixels, labels = load_digits_tensors()
    pick = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))[:32]
    return (pixels[pick] / 16.0).to(device), labels[pick].to(device)


def train(loop: str, seed: int, steps: int, device: str) -> list[float]:
    x, y = one_batch(seed, device)
    seed_everything(seed)  # the same initial weights for every loop
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5 if loop == "lr 1e-5" else 1e-3)
    losses = []
    for _ in range(steps + 1):
        logits = model(x)
        if loop == "detached (bug)":
            logits = logits.detach()
        loss = nn.functional.cross_entropy(logits, y)
        if loop == "detached (bug)":
            loss.requires_grad_(True)  # the "fix" that hides the bug
        losses.append(loss.item())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return losses  # losses[0] is before any step


def decide(correct_final: float, bug_start: float, bug_final: float) -> str:
    """Reads the diagnosis off the losses of the correct and the stuck loop."""
    if correct_final > 0.5:
        return "B"  # even the correct loop cannot fit 32 examples: the model is too small
    if abs(bug_final - bug_start) <= 0.01 * bug_start:
        return "A"  # the stuck loop did not move at all, while a correct one fits the batch
    if bug_final < bug_start:
        return "C"  # it was moving, only slowly
    raise ValueError("the stuck loop's loss went up: no choice fits")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    curves: dict[str, list[list[float]]] = {loop: [] for loop in LOOPS}
    for index, seed in enumerate(ctx.seeds):
        for loop in LOOPS:
            curves[loop].append(train(loop, seed, cfg["steps"], ctx.device))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    start = {loop: statistics.median(c[0] for c in curves[loop]) for loop in LOOPS}
    final = {loop: statistics.median(c[-1] for c in curves[loop]) for loop in LOOPS}
    fitted = sum(c[-1] < 0.1 for c in curves["correct"])
    flat = sum(max(c) - min(c) < 1e-6 for c in curves["detached (bug)"])
    ctx.log(f"One fixed batch of 32 digits, MLP, Adam, {cfg['steps']} steps, seeds {ctx.seeds}; "
            f"ln 10 = {math.log(10):.3f}. Loss (median over seeds):")
    for loop in LOOPS:
        ctx.log(f"  {loop:<15} step 0: {start[loop]:.3f}   step {cfg['steps']}: {final[loop]:.4f}")
    ctx.log(f"The correct loop got below 0.1 in {fitted} of {len(ctx.seeds)} seeds; the "
            f"detached loop's loss never changed (to 1e-6) in {flat} of {len(ctx.seeds)}.")
    answer = decide(final["correct"], start["detached (bug)"], final["detached (bug)"])
    ctx.figure("overfit-one-batch", figure(curves))
    if answer == "A":
        ctx.log(f"\nWhy: 32 examples are easy to memorise, so a working loop drives the loss "
                f"near 0 ({final['correct']:.4f} here). A loss frozen at its step-0 value "
                f"({start['detached (bug)']:.3f}, about ln 10) means the weights never change: "
                "no gradient reaches them. Too low a learning rate looks different: the loss "
                f"still moves ({start['lr 1e-5']:.3f} to {final['lr 1e-5']:.3f} at lr 1e-5). "
                "Look for .detach(), .item() or numpy inside the forward pass, "
                "requires_grad_() patched onto the loss, torch.no_grad() around training, or "
                "an optimizer built over other parameters.")
    return {"answer": answer, "metrics": {
        "correct_final": round(final["correct"], 5), "low_lr_final": round(final["lr 1e-5"], 4),
        "bug_start": round(start["detached (bug)"], 4),
        "bug_final": round(final["detached (bug)"], 4),
        "seeds_fitted": fitted, "seeds_flat": flat, "seeds": len(ctx.seeds)}}


def figure(curves):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (full, zoom) = plt.subplots(1, 2, figsize=(8.0, 3.8), dpi=100)
    styles = {"correct": ("#55a868", "-"), "lr 1e-5": ("#dd8452", "-"),
              "detached (bug)": ("#c44e52", "--")}
    for ax in (full, zoom):
        for loop, (colour, dash) in styles.items():
            for i, c in enumerate(curves[loop]):
                ax.plot(c, color=colour, linestyle=dash, alpha=0.85, linewidth=1.3,
                        label=loop if i == 0 else None)
        ax.axhline(math.log(10), color="grey", linestyle=":", linewidth=1,
                   label="ln 10" if ax is full else None)
        ax.grid(alpha=0.3)
        ax.set(xlabel="step")
    stuck = [v for loop in ("lr 1e-5", "detached (bug)") for c in curves[loop] for v in c]
    zoom.set_ylim(min(stuck) - 0.01, max(stuck) + 0.01)
    full.set(title="One batch of 32 (one line per seed)", ylabel="training loss", ylim=(0, None))
    zoom.set(title="Zoom: lr 1e-5 moves, the bug does not")
    full.legend(fontsize="small")
    fig.tight_layout()
    return fig
