"""When regularisation hurts: a tiny, heavily regularised MLP that underfits.

Per seed, five arms share the same 600 training digits, initial weights and steps: the
starting configuration (64-8-10 MLP, dropout 0.5, weight decay 1e-2) and four changes to it.
Training and held-out accuracy are measured in eval mode for each.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.digits import digits, evaluate, split
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 600, "val": 500, "steps": 120},
    "cpu": {"train": 600, "val": 1000, "steps": 300},
    "full": {"train": 800, "val": 997, "steps": 500},
}
LR, MOMENTUM, HIDDEN = 0.1, 0.9, 8
# arm: (dropout, weight_decay, label_smoothing)
ARMS = {"start": (0.5, 1e-2, 0.0), "A": (0.7, 1e-2, 0.0), "B": (0.5, 4e-2, 0.0),
        "C": (0.0, 0.0, 0.0), "D": (0.5, 1e-2, 0.2)}
NAMES = {"start": "as is: dropout 0.5, weight_decay 1e-2", "A": "dropout raised to 0.7",
         "B": "weight_decay raised to 4e-2", "C": "dropout and weight_decay removed",
         "D": "label_smoothing=0.2 added"}


def train_arm(seed: int, dropout: float, decay: float, smoothing: float, cfg: dict, data,
              device: str) -> tuple[float, float]:
    (train_x, train_y), (val_x, val_y) = data
    seed_everything(seed)  # the same initial weights in every arm
    model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Dropout(dropout),
                          nn.Linear(HIDDEN, 10)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                                weight_decay=decay)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    for _ in range(cfg["steps"]):
        model.train()
        loss = loss_fn(model(train_x), train_y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return evaluate(model, train_x, train_y)[1], evaluate(model, val_x, val_y)[1]


def decide(val_acc: dict[str, float], margin: float = 0.02) -> str:
    """The change (A-D) with the best held-out accuracy, if it leads by `margin`."""
    ranked = sorted("ABCD", key=val_acc.__getitem__, reverse=True)
    if val_acc[ranked[0]] - val_acc[ranked[1]] < margin:
        raise RuntimeError(f"no change leads by {margin:.0%}: {val_acc}")
    return ranked[0]


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    results: dict[str, list[tuple[float, float]]] = {arm: [] for arm in ARMS}
    with one_thread(ctx.device):
        images, labels = digits(ctx.device)
        total, done = len(ctx.seeds) * len(ARMS), 0
        for seed in ctx.seeds:
            data = split(images, labels, seed, cfg["train"], cfg["val"])
            for arm, settings in ARMS.items():
                results[arm].append(train_arm(seed, *settings, cfg, data, ctx.device))
                done += 1
                ctx.progress(done, total, f"seed {seed}: {NAMES[arm]}")
    train = {arm: statistics.fmean(t for t, _ in runs) for arm, runs in results.items()}
    val = {arm: statistics.fmean(v for _, v in runs) for arm, runs in results.items()}
    ctx.log(f"MLP 64-{HIDDEN}-10, SGD lr {LR} momentum {MOMENTUM}, {cfg['steps']} full-batch "
            f"steps on {cfg['train']} digits; {cfg['val']} held-out digits; seeds {ctx.seeds}.")
    ctx.log("       change                                  train acc  held-out per seed"
            "       mean")
    for arm, runs in results.items():
        cells = ", ".join(f"{v:.1%}" for _, v in runs)
        ctx.log(f"  {arm:<5} {NAMES[arm]:<40} {train[arm]:8.1%}  {cells:<22}  {val[arm]:.1%}")
    answer = decide(val)
    wins = sum(all(results[answer][i][1] > results[o][i][1] for o in ARMS if o != answer)
               for i in range(len(ctx.seeds)))
    ctx.log(f"'{NAMES[answer]}' was best in {wins} of {len(ctx.seeds)} seeds.")
    ctx.figure("underfitting-changes", plots.bars(
        "Held-out accuracy (mean over seeds)",
        {"as is" if a == "start" else a: val[a] for a in ARMS}, ylabel="accuracy"))
    ctx.log("\n" + (
        f"Why: as it is, the model reaches only {train['start']:.1%} on its own training "
        f"digits ({val['start']:.1%} held out), where the same network without dropout and "
        f"weight decay reaches {train['C']:.1%}. Training accuracy held down like that is "
        "underfitting: an 8-unit hidden layer has little capacity, and dropout "
        "(zeroing each of those units with probability 0.5 at every step) and weight decay "
        "take away more. More regularisation changed held-out accuracy by "
        f"{(val['A'] - val['start']) * 100:+.1f} (dropout 0.7), "
        f"{(val['B'] - val['start']) * 100:+.1f} (weight decay 4e-2) and "
        f"{(val['D'] - val['start']) * 100:+.1f} points (label smoothing). Removing it lets "
        f"the small network use all its units: held-out {val['C']:.1%}. Regularise when a "
        "model fits its training data far better than new data, not when it fits neither."
        if answer == "C" else f"This run points to {answer}; see the numbers above."))
    return {"answer": answer, "metrics": {
        **{f"val_acc_{arm}": round(v, 4) for arm, v in val.items()},
        **{f"train_acc_{arm}": round(v, 4) for arm, v in train.items()},
        "seeds_best": wins, "seeds": len(ctx.seeds)}}
