"""Runs the problem's own code (three SGD steps without zero_grad) and prints what it prints.

Then what the same mistake does to a real training run: a linear classifier on sklearn's
digits trained with SGD, with and without optimizer.zero_grad(), from the same weights and
batches.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import math
import statistics
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bot.worker.lab.env import seed_everything

# The problem's code, exactly as shown; run with exec so the two cannot drift apart.
SNIPPET = """\
import torch

w = torch.nn.Parameter(torch.tensor(1.0))
optimizer = torch.optim.SGD([w], lr=0.1)
for step in range(3):
    loss = 2 * w       # d(loss)/dw = 2
    loss.backward()    # no optimizer.zero_grad() anywhere
    optimizer.step()
print(round(w.item(), 2))
"""
CHOICES = {"A": "0.4", "B": "-0.2", "C": "RuntimeError: Trying to backward through the graph "
           "a second time", "D": "1.0"}
SIZES = {"test": {"steps": 100}, "cpu": {"steps": 200}, "full": {"steps": 400}}
LR, LOW_LR, BATCH = 1.0, 0.1, 64  # LR suits the correct loop; LOW_LR is 10x too small


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


def run_snippet(code: str = SNIPPET) -> str:
    """Executes the code; returns what it printed, or the error it raised."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<problem code>", "exec"), {"__name__": "problem_code"})  # noqa: S102
    except RuntimeError as exc:
        return f"RuntimeError: {exc}"
    return out.getvalue().strip()


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    for letter, text in choices.items():
        if printed.strip() == text or (text.startswith("RuntimeError")
                                       and printed.startswith(text)):
            return letter
    raise ValueError(f"the code printed {printed!r}, which matches no choice")


def grads_seen() -> list[float]:
    """w.grad after each backward() of the snippet's loop."""
    w = torch.nn.Parameter(torch.tensor(1.0))
    optimizer = torch.optim.SGD([w], lr=0.1)
    seen = []
    for _ in range(3):
        (2 * w).backward()
        seen.append(w.grad.item())
        optimizer.step()
    return seen


def train(seed: int, steps: int, zero_grad: bool, data, lr: float = LR,
          device: str = "cpu") -> list[float]:
    x, y = (t.to(device) for t in data)
    seed_everything(seed)
    model = nn.Linear(64, 10).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        index = torch.randint(0, len(y), (BATCH,), generator=gen).to(device)
        loss = nn.functional.cross_entropy(model(x[index]), y[index])
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        losses.append(nn.functional.cross_entropy(model(x), y).item())  # on all the data
    return losses


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    choices = ctx.params.get("choices", CHOICES)
    printed = run_snippet()
    ctx.log(f"The problem's code prints: {printed}")
    ctx.log(f"w.grad after each backward(): {', '.join(f'{g:g}' for g in grads_seen())}")
    answer = decide(printed, choices)
    pixels, labels = load_digits_tensors()
    data = (pixels / 16.0, labels)
    runs = {(lr, flag): [] for lr in (LR, LOW_LR) for flag in (True, False)}
    for index, seed in enumerate(ctx.seeds):
        for lr, flag in runs:
            runs[lr, flag].append(train(seed, cfg["steps"], flag, data, lr, ctx.device))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    final = {key: [r[-1] for r in runs[key]] for key in runs}
    med = {key: statistics.median(v) for key, v in final.items()}
    worse = {lr: sum(b > a or not math.isfinite(b)
                     for a, b in zip(final[lr, True], final[lr, False], strict=True))
             for lr in (LR, LOW_LR)}
    ctx.log(f"\nLinear classifier on sklearn digits, SGD, {cfg['steps']} steps of {BATCH}, same "
            f"weights and batches, seeds {ctx.seeds}. Loss on all 1797 images:")
    for lr in (LR, LOW_LR):
        ctx.log(f"  lr {lr:g}: with zero_grad() {', '.join(f'{v:.3f}' for v in final[lr, True])}; "
                f"without {', '.join(f'{v:.3g}' for v in final[lr, False])} (higher without "
                f"in {worse[lr]} of {len(ctx.seeds)} seeds)")
    ctx.figure("zero-grad-loss", figure(runs))
    if answer == "B":
        ctx.log("\nWhy: backward() adds the new gradient into .grad instead of replacing it, "
                "and nothing resets it. The three steps therefore use 2, 4 and 6 (printed "
                "above): w = 1 - 0.1 x (2 + 4 + 6) = -0.2, not 1 - 0.1 x (2 + 2 + 2) = 0.4. "
                "No error: each pass builds a new graph from 2 * w, so no graph is reused.")
        ctx.log(training_note(med, worse, len(ctx.seeds)))
    return {"answer": answer, "metrics": {
        "printed": printed, "final_loss_zero_grad": round(med[LR, True], 4),
        "final_loss_no_zero_grad": med[LR, False], "seeds_worse_without": worse[LR],
        "low_lr_final_loss_zero_grad": round(med[LOW_LR, True], 4),
        "low_lr_final_loss_no_zero_grad": med[LOW_LR, False], "seeds": len(ctx.seeds)}}


def training_note(med, worse: dict, seeds: int) -> str:
    """What the digits runs showed, in words that follow the numbers."""
    bad, good = med[LR, False], med[LR, True]
    text = ("In real training each step then applies the running sum of all past gradients. "
            f"At lr {LR:g}, a rate that suits the correct loop, the loss ended "
            f"{'higher' if bad > good else 'lower'} without zero_grad() ({bad:.3g} vs "
            f"{good:.3f}, median; higher in {worse[LR]} of {seeds} seeds).")
    low_bad, low_good = med[LOW_LR, False], med[LOW_LR, True]
    if low_bad < low_good:
        text += (f" At lr {LOW_LR:g} the growing sum acted like a bigger step and the loss came "
                 f"out lower ({low_bad:.3g} vs {low_good:.3f}): a forgotten zero_grad() does "
                 "not always look like a failure.")
    return text + (" Call optimizer.zero_grad() once per step, or every k steps on purpose "
                   "to accumulate gradients.")


def figure(runs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    for flag, colour, label in ((True, "#55a868", "with zero_grad()"),
                                (False, "#c44e52", "without zero_grad()")):
        for i, r in enumerate(runs[LR, flag]):
            ax.plot(r[:-1], color=colour, alpha=0.8, linewidth=1,
                    label=label if i == 0 else None)
    ax.set(title=f"Training loss per step at lr {LR:g} (one line per seed)", xlabel="step",
           ylabel="mini-batch loss", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
