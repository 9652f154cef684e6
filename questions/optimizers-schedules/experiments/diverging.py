"""Which cause makes a training loss climb to huge values and then nan?

A 64-64-10 MLP is trained with plain SGD on sklearn's digits (1,797 8x8 images that ship
with scikit-learn). Each choice's cause is run as an arm, all for the same number of
steps, from the same initial weights and on the same batches; every arm differs from a
reference run (lr=0.3, batch 32, all 1,297 training images) in that one cause only. The
training loss is logged every 10 steps, as in the problem, and the arm whose log explodes
is the answer.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from bot.worker.lab.env import one_thread, seed_everything

SIZES = {"test": {"steps": 100}, "cpu": {"steps": 200}, "full": {"steps": 400}}
BASE = {"lr": 0.3, "batch": 32, "train": 1297}
# Each choice's cause as a change to the reference run.
ARMS = {
    "A": ("learning rate 10x too high (3.0)", {"lr": 3.0}),
    "B": ("learning rate 10x too low (0.03)", {"lr": 0.03}),
    "C": ("overfitting: the same steps on only 64 training images", {"train": 64}),
    "D": ("batch too small (4 images)", {"batch": 4}),
}
EXPLODED = 10.0  # "explodes": the loss rises above 10x its first logged value, or is not finite


def digits(seed: int, device: str):
    """A seeded split of sklearn's digits: 1,297 training and 500 validation images."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    train, val = order[:1297], order[1297:]
    # Standardised with the training images' statistics; pixels that are (nearly) constant
    # there get a floor on their scale instead of a division by ~0.
    mean, std = x[train].mean(0), x[train].std(0).clamp_min(1.0)
    x = (x - mean) / std
    return x[train].to(device), y[train].to(device), x[val].to(device), y[val].to(device)


def mlp(seed: int, device: str) -> nn.Module:
    seed_everything(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)


def train_arm(data, cfg: dict, steps: int, seed: int, device: str) -> dict:
    """Plain SGD; returns the loss logged every 10 steps and the final validation loss."""
    xt, yt, xv, yv = data
    xt, yt = xt[:cfg["train"]], yt[:cfg["train"]]
    model = mlp(seed, device)  # the same initial weights in every arm
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    gen = torch.Generator().manual_seed(seed + 1)
    logged, blew_up_at = [], None
    for step in range(steps):
        index = torch.randint(0, len(xt), (cfg["batch"],), generator=gen).to(device)
        loss = F.cross_entropy(model(xt[index]), yt[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            logged.append(loss.item())
            if not math.isfinite(logged[-1]):
                blew_up_at = step
                break  # nan stays nan: nothing later can change the verdict
    with torch.no_grad():
        val = F.cross_entropy(model(xv), yv).item()
        train = F.cross_entropy(model(xt), yt).item()
    return {"logged": logged, "val": val, "train": train, "blew_up_at": blew_up_at}


def explodes(logged: list[float]) -> bool:
    return any(not math.isfinite(v) or v > EXPLODED * logged[0] for v in logged)


def decide(exploded: dict[str, int], seeds: int) -> str:
    """The cause whose arm exploded in a majority of seeds, if exactly one did."""
    hits = [letter for letter, count in exploded.items() if count > seeds / 2]
    if len(hits) != 1:
        raise RuntimeError(f"expected exactly one arm to explode, got {exploded}")
    return hits[0]


def figure(runs: dict[str, list[dict]]):
    """The logged training loss of every arm and seed, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (letter, rs) in enumerate(runs.items()):
        for seed_index, run in enumerate(rs):
            finite = [v for v in run["logged"] if math.isfinite(v)]
            ax.plot([10 * i for i in range(len(finite))], finite, color=colours[index],
                    alpha=0.85, label=f"{letter}. {ARMS[letter][0]}" if seed_index == 0 else None)
    ax.set_yscale("log")
    ax.set(title="Training loss logged every 10 steps (one line per seed)",
           xlabel="SGD step", ylabel="training loss (log scale)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


def short(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else str(v)


def run(ctx):
    with one_thread(ctx.device):
        return measure(ctx)


def measure(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    runs: dict[str, list[dict]] = {letter: [] for letter in ARMS}
    reference = []
    total, done = len(ctx.seeds) * (len(ARMS) + 1), 0
    for seed in ctx.seeds:
        data = digits(seed, ctx.device)
        reference.append(train_arm(data, BASE, cfg["steps"], seed, ctx.device))
        for letter, (_, change) in ARMS.items():
            runs[letter].append(train_arm(data, {**BASE, **change}, cfg["steps"], seed,
                                          ctx.device))
            done += 1
            ctx.progress(done, total, f"seed {seed}: arm {letter}")
    exploded = {letter: sum(explodes(r["logged"]) for r in rs) for letter, rs in runs.items()}
    n = len(ctx.seeds)
    ctx.log(f"MLP on sklearn digits, plain SGD, {cfg['steps']} steps per arm, seeds "
            f"{ctx.seeds}. Reference (lr=0.3, batch 32): final training loss "
            + ", ".join(short(r["train"]) for r in reference) + " per seed.")
    ctx.log("Training loss logged every 10 steps (first seed), and in how many seeds it "
            f"exploded (rose above {EXPLODED:g}x its start, or became inf/nan):")
    for letter, (label, _) in ARMS.items():
        first = runs[letter][0]["logged"]
        shown = ", ".join(short(v) for v in first[:7]) + (", ..." if len(first) > 7 else "")
        ctx.log(f"{letter}. {label}: [{shown}] exploded {exploded[letter]}/{n}")
    high = [r["blew_up_at"] for r in runs["A"]]
    if any(s is not None for s in high):
        ctx.log("Too-high rate: loss inf or nan by step "
                + ", ".join(str(s) if s is not None else f"(none within {cfg['steps']})"
                            for s in high) + " per seed.")
    else:
        ctx.log(f"Too-high rate: not yet inf or nan within {cfg['steps']} steps.")
    overfit = runs["C"]
    ctx.log("Overfitting arm: training loss "
            + ", ".join(short(r["train"]) for r in overfit) + ", validation loss "
            + ", ".join(short(r["val"]) for r in overfit) + " per seed.")
    answer = decide(exploded, n)
    ctx.figure("training-loss-per-cause", figure(runs))
    overflowed = sum(s is not None for s in high)
    ctx.log("\n" + EXPLAIN.get(answer, "Arm {answer} exploded.").format(
        answer=answer, overflow=(
            f"in {overflowed}/{n} seeds it overflowed to inf or nan within {cfg['steps']} steps"
            if overflowed else f"within {cfg['steps']} steps it had not yet overflowed to inf "
            "or nan, which is where it ends if left running (general knowledge)")))
    return {"answer": answer, "metrics": {
        **{f"exploded_{letter}": count for letter, count in exploded.items()},
        "reference_train_loss": round(sorted(r["train"] for r in reference)[n // 2], 4),
        "overfit_train_loss": round(sorted(r["train"] for r in overfit)[n // 2], 4),
        "overfit_val_loss": round(sorted(r["val"] for r in overfit)[n // 2], 4),
        "steps": cfg["steps"], "seeds": n}}


EXPLAIN = {
    "A": ("Why: only the 10x learning rate reproduced the log. Each SGD step moves the weights "
          "by lr x gradient; when that step overshoots the minimum along a steep direction, "
          "the loss and the next gradient are larger than before, so every step overshoots "
          "further and the loss grows geometrically: {overflow}. A too-low rate only makes "
          "the loss fall slowly; overfitting drives the *training* loss down, far below "
          "the validation loss (as above); small batches add noise around the reference "
          "curve without the steady blow-up. Lower the rate (or clip gradients) to fix it."),
}
