"""Which model's output is the same in model.train() and model.eval()?

Four small MLPs, one per choice, built from the same seed. Each gets the same batch of 32
(inputs not standardised, as real features often are), first in eval mode and then in train
mode (eval first, so train mode's batch-norm update cannot leak into the eval output).
Measured: the largest difference between the two outputs, and how far batch norm's running
mean moved during the one train-mode pass.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

TOL = 1e-6
NAMES = {"A": "Dropout(0.2)", "B": "BatchNorm1d", "C": "LayerNorm",
         "D": "BatchNorm1d, requires_grad=False"}


def build(letter: str) -> nn.Module:
    middle = {"A": nn.Dropout(0.2), "B": nn.BatchNorm1d(32), "C": nn.LayerNorm(32),
              "D": nn.BatchNorm1d(32)}[letter]
    model = nn.Sequential(nn.Linear(16, 32), middle, nn.ReLU(), nn.Linear(32, 4))
    if letter == "D":
        for p in model.parameters():
            p.requires_grad = False
    return model


def measure(letter: str, seed: int, device: str) -> tuple[float, float]:
    """(max |train output - eval output|, how far batch norm's running mean moved)."""
    seed_everything(seed)
    model = build(letter).to(device)
    x = (3 * torch.randn(32, 16) + 1).to(device)
    norm = model[1]
    before = norm.running_mean.clone() if isinstance(norm, nn.BatchNorm1d) else None
    with torch.no_grad():
        evaluated = model.eval()(x)
        trained = model.train()(x)
    moved = float((norm.running_mean - before).abs().max()) if before is not None else 0.0
    return float((trained - evaluated).abs().max()), moved


def decide(diffs: dict[str, float], tol: float = TOL) -> str:
    """The one model whose outputs agree in both modes."""
    same = [letter for letter, d in diffs.items() if d <= tol]
    if len(same) != 1:
        raise ValueError(f"{len(same)} models agree in both modes: {diffs}")
    return same[0]


def run(ctx):
    diffs = {letter: [] for letter in NAMES}
    moved = {letter: [] for letter in NAMES}
    for index, seed in enumerate(ctx.seeds):
        for letter in NAMES:
            d, m = measure(letter, seed, ctx.device)
            diffs[letter].append(d)
            moved[letter].append(m)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    worst = {letter: max(v) for letter, v in diffs.items()}
    least = {letter: min(v) for letter, v in diffs.items()}
    ctx.log(f"Linear(16, 32) -> [layer] -> ReLU -> Linear(32, 4), one batch of 32, seeds "
            f"{ctx.seeds}. Max |train-mode output - eval-mode output|:")
    for letter, name in NAMES.items():
        span = (f"{worst[letter]:.2g}" if least[letter] == worst[letter]
                else f"{least[letter]:.2g} to {worst[letter]:.2g}")
        ctx.log(f"  {letter}: {name:<33} {span}")
    answer = decide(worst)
    ctx.log(f"Batch norm's running mean moved by up to {max(moved['D']):.2f} in one train-mode "
            "pass, with its parameters frozen (D).")
    ctx.figure("train-vs-eval-outputs", figure(worst))
    if answer == "C":
        ctx.log("\nWhy: model.train() and model.eval() flip a flag that some layers read. "
                "Dropout zeroes random units in train mode and passes everything through in "
                "eval mode; batch norm uses the batch's own mean and variance in train mode "
                "and its running averages in eval mode (general knowledge). Hence differences "
                f"of up to {worst['A']:.2g} (A) and {worst['B']:.2g} (B). requires_grad=False "
                "stops gradients, not that switch: the frozen batch norm (D) differed just as "
                f"much ({worst['D']:.2g}) and its running mean still moved "
                f"({max(moved['D']):.2f}). LayerNorm normalises each example by its own "
                "features and keeps no running statistics, so both modes computed the same "
                f"output (largest difference {worst['C']:.0e}).")
    return {"answer": answer, "metrics": {
        **{f"max_diff_{letter}": worst[letter] for letter in NAMES},
        "frozen_bn_running_mean_moved": round(max(moved["D"]), 4), "seeds": len(ctx.seeds)}}


def figure(worst):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    labels = [f"{letter}: {name.split(',')[0]}" + (" (frozen)" if letter == "D" else "")
              for letter, name in NAMES.items()]
    values = [max(worst[letter], 1e-9) for letter in NAMES]
    ax.bar(labels, values, color="#4c72b0")
    for i, letter in enumerate(NAMES):
        text = "exactly 0" if worst[letter] == 0 else f"{worst[letter]:.2g}"
        ax.text(i, values[i], text, ha="center", va="bottom", fontsize="small")
    ax.set(title="Largest train-mode vs eval-mode output difference (worst seed)",
           ylabel="max |difference| (log; 0 drawn at 1e-9)", yscale="log", ylim=(1e-10, 30))
    ax.tick_params(axis="x", labelsize="small")
    fig.tight_layout()
    return fig
