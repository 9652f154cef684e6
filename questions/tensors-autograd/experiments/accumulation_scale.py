"""Gradient accumulation: which scaling of each micro-batch loss reproduces the big batch.

A small MLP on generated data (64 random features, labels from a random linear teacher)
computes the gradient of the mean cross-entropy over a batch of 32 in one backward. Then the same 32
examples are fed as 4 micro-batches of 8, each micro-batch's mean loss scaled by one answer
choice's factor before backward, gradients accumulating in .grad. Same model, same weights,
same examples in every arm; only the factor differs.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.env import one_thread, seed_everything

BATCH, MICRO = 32, 8
STEPS = BATCH // MICRO  # 4 accumulation steps
FACTORS = {"A": 1.0, "B": 1 / STEPS, "C": 1 / BATCH, "D": float(STEPS)}
LABELS = {"A": "no scaling", "B": f"/ {STEPS}", "C": f"/ {BATCH}", "D": f"x {STEPS}"}
SIZES = {"test": {"batches": 1}, "cpu": {"batches": 4}, "full": {"batches": 16}}
TOLERANCE = 1e-4  # relative error float32 summation order can explain; the wrong arms are >0.5


def make_data(n: int, seed: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """64 random features; the label is the arg-max of a random linear map of them."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 64, generator=gen)
    y = (x @ torch.randn(64, 10, generator=gen)).argmax(1)
    return x.to(device), y.to(device)


def flat_grad(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, tuple[float, float]]:
    """Per letter: (relative error to the full-batch gradient, norm ratio to it)."""
    loss_fn = nn.CrossEntropyLoss()  # reduction="mean"
    model.zero_grad()
    loss_fn(model(x), y).backward()
    full = flat_grad(model).clone()
    out = {}
    for letter, factor in FACTORS.items():
        model.zero_grad()
        for start in range(0, BATCH, MICRO):
            micro = slice(start, start + MICRO)
            (loss_fn(model(x[micro]), y[micro]) * factor).backward()
        acc = flat_grad(model)
        out[letter] = (((acc - full).norm() / full.norm()).item(),
                       (acc.norm() / full.norm()).item())
    return out


def decide(errors: dict[str, float], tolerance: float = TOLERANCE) -> str:
    """The factor whose accumulated gradient equals the big batch's (within float error)."""
    best = min(errors, key=errors.get)
    if errors[best] > tolerance:
        raise ValueError(f"no scaling reproduces the full-batch gradient: {errors}")
    return best


def run(ctx):
    with one_thread():
        return experiment(ctx)


def experiment(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    errors = {k: [] for k in FACTORS}
    ratios = {k: [] for k in FACTORS}
    winners = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).to(ctx.device)
        seed_errors = {k: [] for k in FACTORS}
        for batch in range(cfg["batches"]):
            x, y = make_data(BATCH, seed * 1000 + batch, ctx.device)
            for letter, (err, ratio) in measure(model, x, y).items():
                errors[letter].append(err)
                ratios[letter].append(ratio)
                seed_errors[letter].append(err)
        winners.append(decide({k: max(v) for k, v in seed_errors.items()}))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")

    worst = {k: max(v) for k, v in errors.items()}
    ratio = {k: statistics.median(v) for k, v in ratios.items()}
    n = len(errors["A"])
    ctx.log(f"MLP 64-32-10 on generated data; batch of {BATCH} vs {STEPS} micro-batches of "
            f"{MICRO}, mean-reduced cross-entropy; {n} batches over {len(ctx.seeds)} seeds.")
    ctx.log("factor    |accumulated - full| / |full| (worst)   |accumulated| / |full| (median)")
    for letter in FACTORS:
        ctx.log(f"  {letter} {LABELS[letter]:11s} {worst[letter]:.2e}{'':27s}{ratio[letter]:.4f}")
    answer = decide(worst)
    held = winners.count(answer)
    ctx.log(f"'{LABELS[answer]}' matched the full-batch gradient in {held} of "
            f"{len(ctx.seeds)} seeds.")
    fig = plots.bars("Accumulated gradient norm / full-batch gradient norm",
                     {LABELS[k]: ratio[k] for k in FACTORS}, ylabel="ratio (log scale)")
    fig.axes[0].set_yscale("log")
    fig.axes[0].axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ctx.figure("accumulation_scaling", fig)
    ctx.log(f"\nWhy: each micro-batch's mean loss is (sum of its {MICRO} losses) / {MICRO}. "
            f"Summing {STEPS} of them in .grad gives (sum of all {BATCH}) / {MICRO}: "
            f"{STEPS} times the big batch's mean, as the unscaled arm's ratio "
            f"{ratio['A']:.2f} shows. Dividing each by {STEPS} turns it into / {BATCH} "
            f"(error {worst['B']:.1e}, float rounding). Dividing by {BATCH} makes it "
            f"{1 / ratio['C']:.0f}x too small ({ratio['C']:.3f}); multiplying "
            f"by {STEPS} makes it {ratio['D']:.0f}x. An unscaled loss acts like a learning "
            f"rate {STEPS}x higher with SGD (general knowledge). With BatchNorm the micro-"
            "batches see different statistics, so the match is only approximate (general "
            "knowledge).")
    return {"answer": answer, "metrics": {
        **{f"rel_error_{k}": worst[k] for k in FACTORS},
        **{f"norm_ratio_{k}": ratio[k] for k in FACTORS},
        "batches": n, "seeds_matching": held, "seeds": len(ctx.seeds)}}
