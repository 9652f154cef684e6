"""Batch norm in a frozen backbone while a new head trains with batches of 2 images.

Every arm freezes the backbone's weights (requires_grad=False) and trains the same new head,
from the same init, on the same batches, at the same rate. They differ only in what the
backbone's batch-norm layers do during training:
- eval mode: they normalise with the pretrained running statistics, which never change
  (so the backbone's outputs are fixed, and are computed once);
- train mode: they normalise each batch with its own statistics and update the running ones
  (momentum 0.1, PyTorch's default);
- train mode with momentum 1.0: the running statistics become those of the latest batch.
Validation is always in eval mode, as at deployment.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.data import Split, target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import mean, pct, per_seed, pretrained
from bot.worker.lab.train import accuracy, train_steps

SIZES = {"test": {"val": 200}, "cpu": {"val": 500}, "full": {"val": 2000}}
TRAIN, STEPS, BATCH, HEAD_LR = 200, 100, 2, 1e-2
TOL = 0.02  # a lead under 2 points counts as no difference
ARMS = {"A": "train mode", "B": "train mode, momentum 1.0", "C": "eval mode"}


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    acc: dict[str, list[float]] = {k: [] for k in ARMS}
    drift: dict[str, list[float]] = {k: [] for k in ARMS}
    total, done = len(ARMS) * len(ctx.seeds), 0
    for seed in ctx.seeds:
        train, val = target_splits(TRAIN, cfg["val"], seed=seed)
        for key in ARMS:
            seed_everything(seed)
            model = pre.model(10, ctx.device)
            acc[key].append(train_arm(ctx, model, key, train, val, seed))
            drift[key].append(stats_drift(model, pre.state))
            done += 1
            ctx.progress(done, total, f"seed {seed}: {ARMS[key]}")
    return report(ctx, acc, drift)


def train_arm(ctx, model, key: str, train: Split, val: Split, seed: int) -> float:
    for param in model.backbone.parameters():
        param.requires_grad = False
    optimizer = torch.optim.AdamW(model.fc.parameters(), lr=HEAD_LR)
    if key == "C":  # eval-mode backbone: a fixed function, so its outputs are computed once
        model.eval()
        with torch.no_grad():
            train, val = (Split(model.backbone(s.images.to(ctx.device)), s.labels)
                          for s in (train, val))
        model = model.fc
    elif key == "B":
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 1.0
    train_steps(model, optimizer, train, steps=STEPS, batch=BATCH, device=ctx.device, seed=seed)
    return accuracy(model, val, ctx.device)


def stats_drift(model, state: dict[str, torch.Tensor]) -> float:
    """How far the last batch-norm layer's running variance moved, relative to pretraining."""
    name, bn = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)][-1]
    before = state[f"{name}.running_var"].to(bn.running_var.device)
    return float((bn.running_var - before).norm() / before.norm())


def decide(accs: dict[str, float]) -> str:
    """The arm with the best mean accuracy, or D when no arm leads by TOL."""
    ranked = sorted(accs, key=accs.get, reverse=True)
    return ranked[0] if accs[ranked[0]] - accs[ranked[1]] >= TOL else "D"


def report(ctx, acc: dict[str, list[float]], drift: dict[str, list[float]]) -> dict:
    ctx.log(f"\nBackbone frozen (requires_grad=False), new head trained on {TRAIN} images, "
            f"{STEPS} steps of {BATCH}, AdamW lr {HEAD_LR:g}. Validation accuracy (eval mode),"
            f" mean [per seed {ctx.seeds}], and how far the last batch-norm layer's running "
            "variance moved from its pretrained value (relative change):")
    for key, label in ARMS.items():
        ctx.log(f"  {key}) {label}: {pct(mean(acc[key]))} [{per_seed(acc[key])}], running "
                f"variance moved {pct(mean(drift[key]))}")
    means = {k: mean(v) for k, v in acc.items()}
    answer = decide(means)
    best = answer if answer in ARMS else max(means, key=means.get)
    wins = sum(all(acc[best][i] >= acc[k][i] for k in ARMS) for i in range(len(ctx.seeds)))
    ctx.log(f"Best: {best}) {ARMS[best]}, best in {wins} of {len(ctx.seeds)} seeds; a lead "
            f"under {TOL * 100:.0f} points would count as no difference -> answer {answer}.")
    ctx.log("\nWhy: " + EXPLAIN[answer].format(
        gap=(means["C"] - means["A"]) * 100, drift=pct(mean(drift["A"])),
        drift1=pct(mean(drift["B"]))))
    ctx.figure("bn_small_batch", plots.bars(
        f"Frozen backbone, batches of {BATCH}: batch-norm mode (mean over seeds)",
        {ARMS[k].replace(", ", "\n"): means[k] for k in ARMS}, ylabel="validation accuracy"))
    return {"answer": answer, "metrics": {
        "eval_mode_acc": round(means["C"], 4), "train_mode_acc": round(means["A"], 4),
        "momentum1_acc": round(means["B"], 4), "train_mode_var_drift": round(mean(drift["A"]), 4),
        "momentum1_var_drift": round(mean(drift["B"]), 4), "best_in_seeds": wins,
        "batch": BATCH, "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "C": ("requires_grad=False stops the optimizer, not batch norm: in train mode its running "
          "statistics moved {drift} (with momentum 1.0, {drift1}) away from the values "
          "learned on thousands of images, toward estimates from recent batches of 2. "
          "Training also normalised each batch by its own 2 images, so the head learned on "
          "features that shift with every batch, then met the running statistics at "
          "validation. In eval mode the backbone stays exactly as pretrained, and it came out "
          "{gap:.1f} points ahead of train mode. Keep frozen batch-norm layers in eval mode: "
          "call backbone.eval() after every model.train() (answer C)."),
    "A": "train-mode batch norm came out best in this run.",
    "B": "following the latest batch's statistics came out best in this run.",
    "D": "no batch-norm mode led by 2 points or more in this run.",
}
