"""Weight decay on an overfitting MLP: its effect on the weight norm and the train/val gap.

Two arms per seed, identical except for `weight_decay` (0 vs 5e-3 in SGD with momentum): the
same 150 training digits, the same initial weights, the same full-batch steps. Measured at
the end: the L2 norm of all weight matrices, training and validation cross-entropy and
accuracy (eval mode).
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.digits import digits, evaluate, split
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 150, "val": 500, "steps": 150},
    "cpu": {"train": 150, "val": 800, "steps": 300},
    "full": {"train": 150, "val": 1200, "steps": 500},
}
DECAY, LR, MOMENTUM, HIDDEN = 5e-3, 0.1, 0.9, 128
EVAL_EVERY = 10


def weight_norm(model: nn.Module) -> float:
    return torch.sqrt(sum(p.pow(2).sum() for name, p in model.named_parameters()
                          if name.endswith("weight"))).item()


def train_arm(seed: int, decay: float, cfg: dict, data, device: str) -> dict:
    (train_x, train_y), (val_x, val_y) = data
    seed_everything(seed)  # the same initial weights in both arms
    model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN),
                          nn.ReLU(), nn.Linear(HIDDEN, 10)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                                weight_decay=decay)
    steps, norms = [], []
    for step in range(1, cfg["steps"] + 1):
        model.train()
        loss = nn.functional.cross_entropy(model(train_x), train_y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % EVAL_EVERY == 0 or step == cfg["steps"]:
            steps.append(step)
            norms.append(weight_norm(model))
    train_loss, train_acc = evaluate(model, train_x, train_y)
    val_loss, val_acc = evaluate(model, val_x, val_y)
    with torch.no_grad():
        probs = model(val_x).softmax(1)
        wrong = probs.argmax(1) != val_y
        conf_wrong = probs.max(1).values[wrong].mean().item() if wrong.any() else 0.0
    return {"conf_wrong": conf_wrong, "norm": norms[-1], "train_loss": train_loss,
            "val_loss": val_loss, "train_acc": train_acc, "val_acc": val_acc,
            "gap": val_loss - train_loss,
            "curve": (steps, norms)}


def decide(norm_plain: float, norm_decay: float, train_plain: float, train_decay: float,
           gap_plain: float, gap_decay: float) -> str:
    """Maps the two arms' means to the choice they describe (5% and 10% margins)."""
    if norm_decay > norm_plain * 1.02:
        return "C"  # the weights grew
    if norm_decay > norm_plain * 0.95:
        raise RuntimeError("weight decay barely changed the weight norm: no effect to report")
    if train_decay < train_plain:
        return "B"  # smaller weights and an even lower training loss
    if gap_decay < gap_plain * 0.9:
        return "A"  # training loss up a little, gap to validation narrower
    return "D"  # both losses up, the gap no narrower


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    arms: dict[float, list[dict]] = {0.0: [], DECAY: []}
    with one_thread(ctx.device):
        images, labels = digits(ctx.device)
        total = len(ctx.seeds) * len(arms)
        for index, seed in enumerate(ctx.seeds):
            data = split(images, labels, seed, cfg["train"], cfg["val"])
            for arm, (decay, results) in enumerate(arms.items()):
                results.append(train_arm(seed, decay, cfg, data, ctx.device))
                ctx.progress(2 * index + arm + 1, total, f"seed {seed}, weight_decay={decay}")
    ctx.log(f"MLP 64-{HIDDEN}-{HIDDEN}-10, SGD lr {LR} momentum {MOMENTUM}, {cfg['steps']} "
            f"full-batch steps on {cfg['train']} digits, {cfg['val']} for validation; the two "
            "arms share data and initial weights and differ only in weight_decay.")
    ctx.log("  seed  weight_decay  |W|   train loss  val loss  gap    train acc  val acc")
    for i, seed in enumerate(ctx.seeds):
        for decay, results in arms.items():
            r = results[i]
            ctx.log(f"  {seed:4d}  {decay:<12g}  {r['norm']:4.1f}  {r['train_loss']:10.3f}  "
                    f"{r['val_loss']:8.3f}  {r['gap']:5.3f}  {r['train_acc']:9.0%}  "
                    f"{r['val_acc']:7.0%}")
    mean = {decay: {key: statistics.fmean(r[key] for r in results)
                    for key in ("norm", "train_loss", "val_loss", "gap", "train_acc", "val_acc",
                                "conf_wrong")}
            for decay, results in arms.items()}
    plain, decayed = mean[0.0], mean[DECAY]
    narrower = sum(d["gap"] < p["gap"] for p, d in zip(arms[0.0], arms[DECAY], strict=True))
    smaller = sum(d["norm"] < p["norm"] for p, d in zip(arms[0.0], arms[DECAY], strict=True))
    ctx.log(f"Means: |W| {plain['norm']:.1f} -> {decayed['norm']:.1f}; train loss "
            f"{plain['train_loss']:.3f} -> {decayed['train_loss']:.3f}; val loss "
            f"{plain['val_loss']:.3f} -> {decayed['val_loss']:.3f}; loss gap {plain['gap']:.3f}"
            f" -> {decayed['gap']:.3f}; accuracy gap {plain['train_acc'] - plain['val_acc']:.1%}"
            f" -> {decayed['train_acc'] - decayed['val_acc']:.1%}.")
    ctx.log(f"Smaller norm in {smaller} and narrower loss gap in {narrower} of "
            f"{len(ctx.seeds)} seeds.")
    answer = decide(plain["norm"], decayed["norm"], plain["train_loss"], decayed["train_loss"],
                    plain["gap"], decayed["gap"])
    fig = plots.curves(
        "L2 norm of the weights during training (one line per seed)",
        {f"weight_decay={decay:g}": [r["curve"] for r in results]
         for decay, results in arms.items()},
        xlabel="step", ylabel="weight norm |W|")
    top = max(max(r["curve"][1]) for rs in arms.values() for r in rs)
    fig.axes[0].set_ylim(0, 1.05 * top)  # plots.curves is scaled for accuracy
    fig.axes[0].legend(loc="best", fontsize="small")
    ctx.figure("weight-norm-during-training", fig)
    ctx.log("\n" + explain(answer, plain, decayed))
    return {"answer": answer, "metrics": {
        "norm_plain": round(plain["norm"], 3), "norm_decay": round(decayed["norm"], 3),
        "train_loss_plain": round(plain["train_loss"], 4),
        "train_loss_decay": round(decayed["train_loss"], 4),
        "val_loss_plain": round(plain["val_loss"], 4),
        "val_loss_decay": round(decayed["val_loss"], 4),
        "gap_plain": round(plain["gap"], 4), "gap_decay": round(decayed["gap"], 4),
        "conf_wrong_plain": round(plain["conf_wrong"], 4),
        "conf_wrong_decay": round(decayed["conf_wrong"], 4),
        "val_acc_plain": round(plain["val_acc"], 4), "val_acc_decay": round(decayed["val_acc"], 4),
        "seeds": len(ctx.seeds)}}


def explain(answer: str, plain: dict, decayed: dict) -> str:
    if answer != "A":
        return f"This run points to {answer}; see the numbers above."
    return (f"Why: every step weight_decay adds {DECAY:g} x w to the gradient, pulling each "
            f"weight towards 0, so the network ends at a norm of {decayed['norm']:.1f} "
            f"instead of {plain['norm']:.1f}. Without it, the weights grow as the training loss "
            f"is driven to {plain['train_loss']:.3f}, and the logits grow with them: on the "
            "validation digits it gets wrong, the plain network's mean top probability is "
            f"{plain['conf_wrong']:.2f}, against {decayed['conf_wrong']:.2f} with decay. With "
            f"the pull, training loss stops at {decayed['train_loss']:.3f} and validation loss "
            f"drops from {plain['val_loss']:.3f} to {decayed['val_loss']:.3f}: the gap shrinks "
            f"from {plain['gap']:.3f} to {decayed['gap']:.3f}. Accuracy moved far less than "
            f"loss here (validation {plain['val_acc']:.1%} -> {decayed['val_acc']:.1%}): in "
            "this run decay mostly tamed over-confidence.")
