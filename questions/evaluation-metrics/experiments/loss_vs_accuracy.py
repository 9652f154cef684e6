"""Validation loss vs validation accuracy while a small MLP trains past its best loss.

An MLP (64-128-10) is trained full-batch on a few hundred of sklearn's 8x8 digits
(load_digits, shipped with sklearn) and evaluated on held-out digits every few steps. From
the step with the lowest validation loss to the end we compare: validation loss, validation
accuracy, and the confidence of the wrong predictions. Final numbers are cross-checked with
sklearn.metrics (log_loss, accuracy_score).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 200, "val": 500, "steps": 240, "eval_every": 10},
    "cpu": {"train": 300, "val": 700, "steps": 400, "eval_every": 10},
    "full": {"train": 300, "val": 1497, "steps": 1500, "eval_every": 25},
}
LR = 1e-2
UNDERFIT = 0.1      # final training loss above this: the model does not fit its training set
RISE = 0.03         # validation loss rose by at least 3% of its minimum
ACC_DROP = 0.02     # accuracy fell by more than 2 points


@dataclass
class History:
    steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    wrong_conf: list[float] = field(default_factory=list)   # mean max-prob of wrong val rows
    wrong_share: list[float] = field(default_factory=list)  # share of val loss from wrong rows

    def best(self) -> int:
        return min(range(len(self.val_loss)), key=self.val_loss.__getitem__)


def digits(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (torch.tensor(x, dtype=torch.float32, device=device) / 16.0,
            torch.tensor(y, device=device))


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, ...]:
    logits = model(x)
    losses = F.cross_entropy(logits, y, reduction="none")
    wrong = logits.argmax(1) != y
    conf = logits.softmax(1).max(1).values
    return (losses.mean().item(), (~wrong).float().mean().item(),
            conf[wrong].mean().item() if wrong.any() else float("nan"),
            (losses[wrong].sum() / losses.sum()).item())


def train(ctx, x, y, seed: int, cfg) -> tuple[History, nn.Module, torch.Tensor]:
    seed_everything(seed)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).to(ctx.device)
    tr, va = order[:cfg["train"]], order[cfg["train"]:cfg["train"] + cfg["val"]]
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    hist = History()
    for step in range(1, cfg["steps"] + 1):
        loss = F.cross_entropy(model(x[tr]), y[tr])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % cfg["eval_every"] == 0:
            val_loss, val_acc, conf, share = evaluate(model, x[va], y[va])
            hist.steps.append(step)
            hist.val_loss.append(val_loss)
            hist.val_acc.append(val_acc)
            hist.train_loss.append(loss.item())
            hist.wrong_conf.append(conf)
            hist.wrong_share.append(share)
    return hist, model, va


def sklearn_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor, hist: History) -> float:
    from sklearn.metrics import accuracy_score, log_loss

    with torch.no_grad():
        probs = model(x).double().softmax(1).cpu().numpy()
    t = y.cpu().numpy()
    return max(abs(log_loss(t, probs, labels=list(range(10))) - hist.val_loss[-1]),
               abs(accuracy_score(t, probs.argmax(1)) - hist.val_acc[-1]))


def run(ctx):
    with one_thread(ctx.device):
        return measure_and_report(ctx)


def measure_and_report(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    x, y = digits(ctx.device)
    runs, gap = [], 0.0
    for index, seed in enumerate(ctx.seeds):
        hist, model, va = train(ctx, x, y, seed, cfg)
        gap = max(gap, sklearn_check(model, x[va], y[va], hist))
        runs.append(hist)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if gap > 1e-4:
        raise RuntimeError(f"torch and sklearn disagree by {gap}")
    return report(ctx, cfg, runs, gap)


def report(ctx, cfg, runs: list[History], gap: float) -> dict:
    n = len(runs)
    best = [h.best() for h in runs]
    rise = [h.val_loss[-1] / h.val_loss[b] - 1 for h, b in zip(runs, best, strict=True)]
    acc_change = [h.val_acc[-1] - h.val_acc[b] for h, b in zip(runs, best, strict=True)]
    conf_change = [h.wrong_conf[-1] - h.wrong_conf[b] for h, b in zip(runs, best, strict=True)]
    train_loss = [h.train_loss[-1] for h in runs]
    ctx.log(f"MLP 64-128-10 on sklearn digits: {cfg['train']} training images, {cfg['val']} "
            f"validation, {cfg['steps']} full-batch Adam steps (lr {LR}), {n} seeds. Final "
            f"validation loss/accuracy match sklearn log_loss/accuracy_score to {gap:.0e}.")
    ctx.log("Per seed, from the lowest validation loss (step) to the end:")
    for h, b in zip(runs, best, strict=True):
        ctx.log(f"  val loss {h.val_loss[b]:.3f} (step {h.steps[b]}) -> {h.val_loss[-1]:.3f}; "
                f"val acc {h.val_acc[b]:.1%} -> {h.val_acc[-1]:.1%}; wrong rows' confidence "
                f"{h.wrong_conf[b]:.2f} -> {h.wrong_conf[-1]:.2f}; train loss "
                f"{h.train_loss[-1]:.4f}")
    held = sum(r >= RISE and abs(a) <= ACC_DROP and c > 0
               for r, a, c in zip(rise, acc_change, conf_change, strict=True))
    med = statistics.median
    ctx.log(f"Median: loss +{med(rise):.0%}, accuracy {100 * med(acc_change):+.1f} points, "
            f"wrong-row confidence {med(conf_change):+.2f}. Loss up >= {RISE:.0%} with accuracy "
            f"within {100 * ACC_DROP:.0f} points and wrong rows more confident: {held} of {n} "
            f"seeds.")
    draw(ctx, runs)
    answer = decide(med(train_loss), med(rise), med(acc_change), med(conf_change))
    share = med(h.wrong_share[-1] for h in runs)
    wrong = med(1 - h.val_acc[-1] for h in runs)
    ctx.log("\n" + EXPLAIN[answer].format(train=med(train_loss), wrong=wrong, share=share,
                                          conf=med(h.wrong_conf[-1] for h in runs),
                                          acc=100 * med(acc_change),
                                          share0=med(h.wrong_share[b]
                                                     for h, b in zip(runs, best, strict=True))))
    return {"answer": answer, "metrics": {
        "val_loss_rise": round(med(rise), 4), "val_acc_change": round(med(acc_change), 4),
        "wrong_conf_change": round(med(conf_change), 4), "train_loss": med(train_loss),
        "wrong_loss_share": round(share, 4), "seeds_effect_held": held,
        "sklearn_max_diff": gap, "seeds": n}}


def decide(train_loss: float, rise: float, acc_change: float, conf_change: float) -> str:
    """Reads the diagnosis off the measured curves (medians over seeds)."""
    if train_loss > UNDERFIT:
        return "A"  # not even the training set is fitted
    if rise < RISE:
        return "C"  # loss and accuracy did not part ways in this run
    if acc_change < -ACC_DROP:
        return "B"  # accuracy fell along with the loss
    if conf_change > 0:
        return "D"  # loss up, accuracy flat, the mistakes more confident
    raise ValueError("loss rose with accuracy flat, but the mistakes did not grow confident")


EXPLAIN = {
    "D": ("Why: training loss reached {train:.4f}, so nothing is underfitting. Accuracy only "
          "asks whether the top class is right, and it moved by only {acc:+.1f} points after "
          "the best-loss step. Cross-entropy also charges "
          "-log(p of the true class) on every image: the {wrong:.1%} of validation images "
          "the model gets wrong are now predicted with mean confidence {conf:.2f} in a wrong "
          "class, and they make up {share:.0%} of the validation loss (at the best-loss step: "
          "{share0:.0%}). The model is becoming overconfident: fine for argmax accuracy, "
          "bad for probabilities (early stopping on validation loss or temperature scaling "
          "help; general knowledge)."),
    "A": "Why: the training loss stayed at {train:.3f}: the model does not fit its training set.",
    "B": "Why: validation accuracy fell along with the rising loss in this run.",
    "C": "Why: validation loss did not rise clearly in this run; loss and accuracy moved together.",
}


def draw(ctx, runs: list[History]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.6), dpi=100)
    for i, h in enumerate(runs):
        left.plot(h.steps, h.val_loss, color="#dd8452", alpha=0.8,
                  label="validation loss" if i == 0 else None)
        right.plot(h.steps, h.val_acc, color="#4c72b0", alpha=0.8,
                   label="validation accuracy" if i == 0 else None)
        right.plot(h.steps, h.wrong_conf, color="#c44e52", alpha=0.8, linestyle="--",
                   label="confidence of wrong rows" if i == 0 else None)
    left.set(title="Validation loss (one line per seed)", xlabel="step", ylim=(0, None))
    right.set(title="Accuracy and confidence", xlabel="step", ylim=(0, 1.02))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right" if ax is left else "lower right", fontsize="small")
    fig.tight_layout()
    ctx.figure("val-loss-vs-accuracy", fig)
