"""Label smoothing and confidence: the same network trained with and without it.

Per seed, two arms share the training digits, the initial weights and the optimiser steps;
only the loss differs: nn.CrossEntropyLoss() vs nn.CrossEntropyLoss(label_smoothing=0.1).
Measured on held-out digits: the mean top-class probability (confidence) and accuracy.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab.digits import digits, split
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 300, "val": 500, "steps": 120},
    "cpu": {"train": 500, "val": 800, "steps": 250},
    "full": {"train": 800, "val": 900, "steps": 400},
}
SMOOTHING, LR, HIDDEN = 0.1, 3e-3, 64


def train_arm(seed: int, smoothing: float, cfg: dict, data, device: str) -> dict:
    (train_x, train_y), (val_x, val_y) = data
    seed_everything(seed)  # the same initial weights in both arms
    model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN),
                          nn.ReLU(), nn.Linear(HIDDEN, 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    for _ in range(cfg["steps"]):
        model.train()
        loss = loss_fn(model(train_x), train_y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        probs = model(val_x).softmax(1)
    top = probs.max(1).values
    right = probs.argmax(1) == val_y
    return {"confidence": top.mean().item(), "accuracy": right.float().mean().item(),
            "conf_right": top[right].mean().item(),
            "conf_wrong": top[~right].mean().item() if (~right).any() else float("nan"),
            "top": top.cpu()}


def decide(conf_plain: float, conf_smooth: float, acc_plain: float, acc_smooth: float,
           margin: float = 0.02) -> str:
    """Maps the two arms' mean confidence and accuracy to the choice they describe."""
    if conf_smooth < 0.3:
        return "D"  # close to uniform (0.1 for ten classes)
    if acc_smooth < acc_plain - 0.01:
        return "C"  # accuracy fell by more than a point
    if conf_smooth > conf_plain + margin:
        return "B"
    if conf_smooth < conf_plain - margin:
        return "A"
    raise RuntimeError("confidence did not move by more than the margin: no effect to report")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    arms: dict[float, list[dict]] = {0.0: [], SMOOTHING: []}
    with one_thread(ctx.device):
        images, labels = digits(ctx.device)
        total = len(ctx.seeds) * len(arms)
        for index, seed in enumerate(ctx.seeds):
            data = split(images, labels, seed, cfg["train"], cfg["val"])
            for arm, (smoothing, results) in enumerate(arms.items()):
                results.append(train_arm(seed, smoothing, cfg, data, ctx.device))
                ctx.progress(2 * index + arm + 1, total, f"seed {seed}, smoothing {smoothing}")
    ctx.log(f"MLP 64-{HIDDEN}-{HIDDEN}-10, Adam lr {LR}, {cfg['steps']} full-batch steps on "
            f"{cfg['train']} digits; {cfg['val']} held-out digits. Arms differ only in "
            "label_smoothing.")
    ctx.log("  seed  label_smoothing  mean top prob  (right / wrong)  accuracy")
    for i, seed in enumerate(ctx.seeds):
        for smoothing, results in arms.items():
            r = results[i]
            ctx.log(f"  {seed:4d}  {smoothing:<15g}  {r['confidence']:13.3f}  "
                    f"({r['conf_right']:.3f} / {r['conf_wrong']:.3f})  {r['accuracy']:8.1%}")
    mean = {s: {k: statistics.fmean(r[k] for r in results)
                for k in ("confidence", "accuracy", "conf_right", "conf_wrong")}
            for s, results in arms.items()}
    plain, smooth = mean[0.0], mean[SMOOTHING]
    lower = sum(s["confidence"] < p["confidence"]
                for p, s in zip(arms[0.0], arms[SMOOTHING], strict=True))
    ctx.log(f"Means: confidence {plain['confidence']:.3f} -> {smooth['confidence']:.3f} (lower "
            f"in {lower} of {len(ctx.seeds)} seeds); accuracy {plain['accuracy']:.1%} -> "
            f"{smooth['accuracy']:.1%}.")
    answer = decide(plain["confidence"], smooth["confidence"], plain["accuracy"],
                    smooth["accuracy"])
    ctx.figure("top-probability-histogram", histogram(arms))
    cap = 1 - SMOOTHING + SMOOTHING / 10
    ctx.log("\n" + (
        f"Why: with label_smoothing={SMOOTHING} the target for the true class is "
        f"1 - {SMOOTHING} + {SMOOTHING}/10 = {cap:.2f}, not 1, and every other class gets "
        f"{SMOOTHING / 10:.2f}. The loss is lowest when the predicted probabilities equal "
        f"that target, so the network stops short of certainty: mean top probability "
        f"{smooth['confidence']:.3f} against {plain['confidence']:.3f}, and on the digits it "
        f"gets wrong {smooth['conf_wrong']:.3f} against {plain['conf_wrong']:.3f}. Accuracy "
        f"counts only the argmax, and its mean did not fall ({plain['accuracy']:.1%} -> "
        f"{smooth['accuracy']:.1%})." if answer == "A" else
        f"This run points to {answer}; see the numbers above."))
    return {"answer": answer, "metrics": {
        "confidence_plain": round(plain["confidence"], 4),
        "confidence_smoothed": round(smooth["confidence"], 4),
        "accuracy_plain": round(plain["accuracy"], 4),
        "accuracy_smoothed": round(smooth["accuracy"], 4),
        "conf_wrong_plain": round(plain["conf_wrong"], 4),
        "conf_wrong_smoothed": round(smooth["conf_wrong"], 4),
        "seeds_lower": lower, "seeds": len(ctx.seeds)}}


def histogram(arms: dict[float, list[dict]]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for smoothing, results in arms.items():
        top = torch.cat([r["top"] for r in results]).numpy()
        ax.hist(top, bins=40, range=(0.1, 1.0), alpha=0.6,
                label=f"label_smoothing={smoothing:g}")
    ax.axvline(1 - SMOOTHING + SMOOTHING / 10, color="grey", linestyle="--", linewidth=1,
               label="smoothed target for the true class")
    ax.set(title="Top-class probability on held-out digits (all seeds)",
           xlabel="top-class probability", ylabel="digits")
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig
