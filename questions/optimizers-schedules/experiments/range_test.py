"""The LR range test, then a run at each of the rates a learner might read off its curve.

Range test (Smith, "Cyclical Learning Rates for Training Neural Networks", section 3.3;
the learning-rate finders in fastai and PyTorch Lightning do the same): train a 64-64-10
MLP on sklearn's digits with SGD (momentum 0.9) while the rate grows exponentially from
1e-4 to 10 over a short sweep, smooth the loss, and stop once it is 4x its best. Then,
from fresh initial weights, train with a constant rate for the same number of steps at each
choice's reading of the curve, and compare validation accuracy.
"""

from __future__ import annotations

import math
import statistics

import torch
from torch import nn
from torch.nn import functional as F

from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"sweep": 60, "steps": 120},
    "cpu": {"sweep": 100, "steps": 400},
    "full": {"sweep": 100, "steps": 400},  # the problem's "short sweep"
}
LR_LOW, LR_HIGH, SMOOTH, STOP_AT = 1e-4, 10.0, 0.9, 4.0
CHOICES = {
    "A": "the rate at the lowest point of the curve",
    "B": "the largest rate before the loss blew up",
    "C": "about 10x below the lowest point",
    "D": "the smallest rate of the sweep",
}
MARGIN = 0.05  # the winner must lead the runner-up's median accuracy by 5 points


def digits(seed: int, device: str):
    """A seeded split of sklearn's digits (1,297 train / 500 validation), standardised."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    train, val = order[:1297], order[1297:]
    mean, std = x[train].mean(0), x[train].std(0).clamp_min(1.0)
    x = (x - mean) / std
    return x[train].to(device), y[train].to(device), x[val].to(device), y[val].to(device)


def fresh(seed: int, lr: float, device: str):
    seed_everything(seed)  # the same initial weights for the sweep and every arm
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def sweep(data, seed: int, steps: int, device: str) -> tuple[list[float], list[float]]:
    """(rates, smoothed losses) of the range test, up to where the loss blew up."""
    xt, yt, _, _ = data
    model, optimizer = fresh(seed, LR_LOW, device)
    gamma = (LR_HIGH / LR_LOW) ** (1 / (steps - 1))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
    gen = torch.Generator().manual_seed(seed + 1)
    rates, smoothed, average = [], [], 0.0
    for step in range(steps):
        rate = optimizer.param_groups[0]["lr"]
        index = torch.randint(0, len(xt), (32,), generator=gen).to(device)
        loss = F.cross_entropy(model(xt[index]), yt[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        value = loss.item()
        if not math.isfinite(value):
            break
        average = SMOOTH * average + (1 - SMOOTH) * value
        rates.append(rate)
        smoothed.append(average / (1 - SMOOTH ** (step + 1)))  # bias-corrected, as fastai
        if smoothed[-1] > STOP_AT * min(smoothed):
            break
    return rates, smoothed


def loss_at(rates: list[float], smoothed: list[float], rate: float) -> float:
    """The smoothed sweep loss at the sweep rate nearest `rate` (on a log scale)."""
    nearest = min(range(len(rates)), key=lambda i: abs(math.log(rates[i] / rate)))
    return smoothed[nearest]


def readings(rates: list[float], smoothed: list[float]) -> dict[str, float]:
    """Each choice's rate, read off one sweep."""
    lowest = rates[min(range(len(smoothed)), key=smoothed.__getitem__)]
    return {"A": lowest, "B": rates[-1], "C": lowest / 10, "D": rates[0]}


def train(data, seed: int, lr: float, steps: int, device: str) -> float:
    """Constant-rate training from fresh weights; returns validation accuracy."""
    xt, yt, xv, yv = data
    model, optimizer = fresh(seed, lr, device)
    gen = torch.Generator().manual_seed(seed + 2)
    for _ in range(steps):
        index = torch.randint(0, len(xt), (32,), generator=gen).to(device)
        loss = F.cross_entropy(model(xt[index]), yt[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return (model(xv).argmax(1) == yv).float().mean().item()


def decide(val_acc: dict[str, float], margin: float = MARGIN) -> str:
    """The reading with the best median validation accuracy, if it leads by `margin`."""
    ranked = sorted(val_acc, key=val_acc.get, reverse=True)
    if val_acc[ranked[0]] - val_acc[ranked[1]] < margin:
        raise RuntimeError(f"no reading leads by {margin:.0%}: {val_acc}")
    return ranked[0]


def figure(curves: list[tuple[list[float], list[float]]], picks: list[dict[str, float]]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for index, (rates, smoothed) in enumerate(curves):
        ax.plot(rates, smoothed, color="#4c72b0", alpha=0.8,
                label="smoothed loss (one line per seed)" if index == 0 else None)
    styles = {"A": ("#c44e52", "A: lowest point"), "C": ("#55a868", "C: 10x below it"),
              "B": ("#8172b2", "B: just before blow-up")}
    for letter, (colour, label) in styles.items():
        for index, pick in enumerate(picks):
            ax.axvline(pick[letter], color=colour, linestyle="--", linewidth=1,
                       label=label if index == 0 else None)
    ax.set_xscale("log")
    ax.set(title="LR range test: SGD (momentum 0.9), MLP on digits",
           xlabel="learning rate (grows every step)", ylabel="training loss")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig


def run(ctx):
    with one_thread(ctx.device):
        return measure(ctx)


def measure(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    curves, picks, accs = [], [], {letter: [] for letter in CHOICES}
    total, done = len(ctx.seeds) * (1 + len(CHOICES)), 0
    for seed in ctx.seeds:
        data = digits(seed, ctx.device)
        curves.append(sweep(data, seed, cfg["sweep"], ctx.device))
        picks.append(readings(*curves[-1]))
        done += 1
        for letter in CHOICES:
            accs[letter].append(train(data, seed, picks[-1][letter], cfg["steps"], ctx.device))
            done += 1
            ctx.progress(done, total, f"seed {seed}: {letter}")
    n = len(ctx.seeds)
    med = {letter: statistics.median(v) for letter, v in accs.items()}
    ctx.log(f"Range test: rate 1e-4 -> 10 over {cfg['sweep']} steps, stopped when the smoothed "
            f"loss passed {STOP_AT:g}x its best. Then {cfg['steps']} steps at each constant rate "
            f"from the same initial weights (seeds {ctx.seeds}).")
    ctx.log("Choice: rate read off the curve [per seed] -> validation accuracy [per seed]")
    for letter, text in CHOICES.items():
        rates = ", ".join(f"{p[letter]:.3g}" for p in picks)
        per = ", ".join(f"{100 * a:.1f}%" for a in accs[letter])
        ctx.log(f"  {letter}. {text}: [{rates}] -> median {100 * med[letter]:.1f}% [{per}]")
    answer = decide(med)
    wins = sum(all(accs[answer][i] > accs[k][i] for k in CHOICES if k != answer)
               for i in range(n))
    ctx.log(f"{answer} is best in {wins}/{n} seeds.")
    ctx.figure("lr-range-test", figure(curves, picks))
    at_c = statistics.median(loss_at(*c, p["C"]) for c, p in zip(curves, picks, strict=True))
    at_a = statistics.median(min(c[1]) for c in curves)
    ctx.log("\n" + EXPLAIN.get(answer, "").format(
        a=100 * med["A"], c=100 * med["C"], b=100 * med["B"], d=100 * med["D"],
        la=at_a, lc=at_c, steps=cfg["steps"]))
    return {"answer": answer, "metrics": {
        **{f"val_acc_{k}": round(v, 4) for k, v in med.items()},
        "lowest_point_lr": round(statistics.median(p["A"] for p in picks), 4),
        "best_in_seeds": wins, "steps": cfg["steps"], "seeds": n}}


EXPLAIN = {
    "C": ("Why: during the sweep the rate grows every step, so each point of the curve shows "
          "what a few steps at that rate do (general knowledge); a rate that still lowers the "
          "loss for a few steps can be too large to sustain. Held for {steps} steps, the "
          "lowest point's rate reached {a:.1f}% and the blow-up rate {b:.1f}%. Ten times "
          "lower, where the curve is still falling (smoothed loss {lc:.2f} there, median, "
          "against {la:.2f} at the lowest point), training reached {c:.1f}%; the sweep's "
          "smallest rate crawled ({d:.1f}%). One tenth of the lowest point is the 'minimum' "
          "suggestion of fastai's learning-rate finder (general knowledge)."),
}
