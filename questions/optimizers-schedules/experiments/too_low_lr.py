"""A loss that falls slowly: which single change helps most within the same step budget?

A 64-64-10 MLP trains with SGD at lr=0.001, batch 32, on sklearn's digits (1,797 8x8
images that ship with scikit-learn), and barely moves. Each choice is one change to that
run; every arm then takes the same number of steps from the same initial weights, and its
validation accuracy is measured. The arm with the best median accuracy, by a stated margin,
is the answer.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn
from torch.nn import functional as F

from bot.worker.lab import plots
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {"test": {"steps": 120}, "cpu": {"steps": 300}, "full": {"steps": 300}}  # the problem: 300
BASE = {"lr": 0.001, "batch": 32, "momentum": 0.0}
ARMS = {
    "A": ("lower the rate to 0.0001", {"lr": 0.0001}),
    "B": ("raise the rate to 0.1", {"lr": 0.1}),
    "C": ("keep 0.001, add momentum=0.9", {"momentum": 0.9}),
    "D": ("keep 0.001, batches of 128", {"batch": 128}),
}
MARGIN = 0.05  # the winner must beat the runner-up's median accuracy by 5 points
EVALS = 6  # validation accuracy measured 10 times along each run, for the figure


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


@torch.no_grad()
def evaluate(model, x, y) -> tuple[float, float]:
    out = model(x)
    return F.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()


def train_arm(data, cfg: dict, steps: int, seed: int, device: str) -> dict:
    xt, yt, xv, yv = data
    seed_everything(seed)  # the same initial weights in every arm
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    gen = torch.Generator().manual_seed(seed + 1)
    first_loss = evaluate(model, xt, yt)[0]
    at, accs = [0], [evaluate(model, xv, yv)[1]]
    for step in range(1, steps + 1):
        index = torch.randint(0, len(xt), (cfg["batch"],), generator=gen).to(device)
        loss = F.cross_entropy(model(xt[index]), yt[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % max(1, steps // EVALS) == 0 or step == steps:
            at.append(step)
            accs.append(evaluate(model, xv, yv)[1])
    train_loss, train_acc = evaluate(model, xt, yt)
    return {"first_loss": first_loss, "train_loss": train_loss, "train_acc": train_acc,
            "val_acc": accs[-1], "curve": (at, accs)}


def decide(val_acc: dict[str, float], margin: float = MARGIN) -> str:
    """The arm with the best median validation accuracy, if it leads by `margin`."""
    ranked = sorted(val_acc, key=val_acc.get, reverse=True)
    if val_acc[ranked[0]] - val_acc[ranked[1]] < margin:
        raise RuntimeError(f"no arm leads by {margin:.0%}: {val_acc}")
    return ranked[0]


def pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def run(ctx):
    with one_thread(ctx.device):
        return measure(ctx)


def measure(ctx):
    steps = {**SIZES[ctx.size], **ctx.params}["steps"]
    runs: dict[str, list[dict]] = {"base": [], **{letter: [] for letter in ARMS}}
    total, done = len(ctx.seeds) * len(runs), 0
    for seed in ctx.seeds:
        data = digits(seed, ctx.device)
        for name in runs:
            change = ARMS[name][1] if name in ARMS else {}
            runs[name].append(train_arm(data, {**BASE, **change}, steps, seed, ctx.device))
            done += 1
            ctx.progress(done, total, f"seed {seed}: {name}")
    n = len(ctx.seeds)
    med = {name: statistics.median(r["val_acc"] for r in rs) for name, rs in runs.items()}
    base = runs["base"]
    ctx.log(f"MLP on sklearn digits, SGD, {steps} steps per arm, seeds {ctx.seeds}.")
    ctx.log(f"As in the problem (lr=0.001, batch 32): training loss "
            f"{statistics.median(r['first_loss'] for r in base):.2f} -> "
            f"{statistics.median(r['train_loss'] for r in base):.2f}, training accuracy "
            f"{pct(statistics.median(r['train_acc'] for r in base))}, validation "
            f"{pct(med['base'])} (medians).")
    ctx.log("Validation accuracy after the same steps (median [per seed]):")
    for letter, (label, _) in ARMS.items():
        per = ", ".join(pct(r["val_acc"]) for r in runs[letter])
        ctx.log(f"  {letter}. {label}: {pct(med[letter])} [{per}]")
    answer = decide({letter: med[letter] for letter in ARMS})
    wins = sum(all(runs[answer][i]["val_acc"] > runs[other][i]["val_acc"]
                   for other in ARMS if other != answer) for i in range(n))
    lead = 100 * (med[answer] - sorted(med[k] for k in ARMS)[-2])
    ctx.log(f"{answer} is best in {wins}/{n} seeds and leads the runner-up by {lead:.1f} "
            f"points (margin asked: {100 * MARGIN:.0f}).")
    ctx.figure("slow-loss-fixes", plots.curves(
        "Validation accuracy, same steps (one line per seed)",
        {f"{letter}. {ARMS[letter][0]}": [r["curve"] for r in runs[letter]] for letter in ARMS},
        xlabel="SGD step"))
    ctx.log("\n" + EXPLAIN.get(answer, "").format(b=pct(med["B"]), c=pct(med["C"]),
                                                d=pct(med["D"]), base=pct(med["base"])))
    return {"answer": answer, "metrics": {
        **{f"val_acc_{k}": round(v, 4) for k, v in med.items()},
        "best_in_seeds": wins, "steps": steps, "seeds": n}}


EXPLAIN = {
    "B": ("Why: a loss falling slowly and steadily, with training and validation accuracy "
          "both low and close together, means each step is too small: nothing is unstable "
          "and nothing is overfitting. A step moves the weights by lr x gradient, so "
          "raising the rate 100x makes each step 100x longer for the same gradient; it "
          "reached {b}. Momentum 0.9 lengthens steps too (up to 1/(1-0.9) = 10x once the "
          "velocity builds up, general knowledge) and reached {c}: a partial fix. Bigger "
          "batches only average the gradient more precisely; the step stays as small, so it "
          "reached {d} (baseline {base})."),
}
